"""Who wrote a pod's credential placeholders (``value_authors``) and who created it
(``created_by``, for the per-user pod quota). Existing pods get their creator from their oldest
permission row (the ADMIN grant ``pod_create`` makes first); their placeholders count as the
creator's, as they did before.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pods', '0004_tenants_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='pod',
            name='created_by',
            field=models.CharField(blank=True, db_index=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='pod',
            name='value_authors',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunSQL(
            "UPDATE pods_pod SET created_by = COALESCE((SELECT p.username FROM pods_podpermission p "
            "WHERE p.pod_id = pods_pod.id ORDER BY p.id LIMIT 1), '') WHERE created_by = ''",
            migrations.RunSQL.noop),
    ]
