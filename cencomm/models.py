"""Cross-cutting records: wrapped data keys, hash-chain heads, the audit trail, API tokens."""

from django.conf import settings
from django.db import models


class DataKey(models.Model):
    """A 32-byte data key for one scope (``room:12``, ``operation:3``), wrapped by the master key.

    The plaintext key never touches the database. Old versions stay to decrypt older records.
    """

    scope = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "version"], name="datakey_scope_version"),
            models.UniqueConstraint(
                fields=["scope"], condition=models.Q(active=True), name="datakey_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} v{self.version}"


class ChainHead(models.Model):
    """The latest link of one hash chain; appends lock this row so a chain never forks."""

    name = models.CharField(max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.name} #{self.seq}"


class AuditEvent(models.Model):
    """Append-only record of who did what, chained by hash per operation.

    ``data`` holds identifiers and non-sensitive values only, never message text or
    sensitive fields in the clear.
    """

    operation = models.ForeignKey("operations.Operation", null=True, blank=True, on_delete=models.PROTECT)
    chain = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq"),
        ]
        indexes = [models.Index(fields=["operation", "at"])]
        ordering = ["chain", "seq"]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class ApiToken(models.Model):
    """A personal access token for programs: scoped to one operation, stored as a SHA-256 digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    operation = models.ForeignKey("operations.Operation", on_delete=models.CASCADE)
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
