"""Credentials generated for every pod at create, encrypted at rest.

Templated services (databases, notebooks) use them through ``<<TAPIS_user_password>>``-style
placeholders. Only ``get_pod_credentials`` (USER level) shows the user pair; nothing else ever
renders them, and ``__str__``/``repr`` do not include them.
"""
import secrets
import string

from django.db import models

from tenancy import crypto

ADMIN_USERNAME = "podsservice"
PASSWORD_LENGTH = 30
_ALPHABET = string.ascii_letters + string.digits


def random_password(length: int = PASSWORD_LENGTH) -> str:
    """A password from the OS CSPRNG (30 alphanumerics, about 178 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class PodCredentials(models.Model):
    pod = models.OneToOneField("pods.Pod", on_delete=models.CASCADE, primary_key=True,
                               related_name="credentials")
    user_username = models.CharField(max_length=150)
    user_password_encrypted = models.TextField(editable=False)
    admin_username = models.CharField(max_length=150, default=ADMIN_USERNAME)
    admin_password_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "pod credentials"

    def __str__(self):
        return f"credentials of pod {self.pod_id}"

    def __repr__(self):
        return f"<PodCredentials pod={self.pod_id}>"

    @classmethod
    def generate(cls, pod) -> "PodCredentials":
        """Fresh credentials for ``pod`` (unsaved): user = the pod id, admin = podsservice."""
        creds = cls(pod=pod, user_username=pod.pod_id, admin_username=ADMIN_USERNAME)
        creds.user_password = random_password()
        creds.admin_password = random_password()
        return creds

    @property
    def user_password(self) -> str:
        return crypto.decrypt(self.user_password_encrypted)

    @user_password.setter
    def user_password(self, value: str):
        self.user_password_encrypted = crypto.encrypt(value)

    @property
    def admin_password(self) -> str:
        return crypto.decrypt(self.admin_password_encrypted)

    @admin_password.setter
    def admin_password(self, value: str):
        self.admin_password_encrypted = crypto.encrypt(value)

    def placeholders(self) -> dict[str, str]:
        """Values for the ``<<TAPIS_x>>`` / ``<<tapissecret_x>>`` placeholders upstream supports."""
        return {
            "user_username": self.user_username,
            "user_password": self.user_password,
            "admin_username": self.admin_username,
            "admin_password": self.admin_password,
        }
