"""core.fields.StrictSerializer: fields copied once per class, bound per instance, and validation
that stays per request when many threads validate at once."""
import threading

from pods.api.serializers import NewPodSerializer


def test_each_instance_gets_its_own_bound_fields_from_one_prototype_per_class():
    one, two = NewPodSerializer(data={}), NewPodSerializer(data={})
    assert one.fields["pod_id"] is not two.fields["pod_id"]
    assert one.fields["pod_id"].parent is one and two.fields["pod_id"].parent is two
    assert "_field_prototypes" in NewPodSerializer.__dict__
    assert NewPodSerializer._field_prototypes["pod_id"].parent is None  # the prototype stays unbound


def test_concurrent_validations_keep_their_own_values_and_errors():
    failures = []

    def validate(i):
        for k in range(50):
            good = i % 2 == 0
            data = {"pod_id": f"pod{i}x{k}", "image": "kubesim/web:1",
                    "environment_variables": {"N": str(k)} if good else {"N": k},
                    "networking": {"default": {"port": 5000 + (k % 7)}}}
            s = NewPodSerializer(data=data)
            ok = s.is_valid()
            if good and (not ok or s.validated_data["pod_id"] != data["pod_id"]
                         or s.validated_data["environment_variables"] != {"N": str(k)}):
                failures.append(("good", i, k, s.errors))
            if not good and (ok or "environment_variables" not in s.errors):
                failures.append(("bad", i, k, dict(s.validated_data) if ok else s.errors))

    threads = [threading.Thread(target=validate, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
