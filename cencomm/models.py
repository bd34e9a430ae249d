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


class SearchDocument(models.Model):
    """One searchable document of an operation (a message, or a result's current version) in the
    search index: what access filtering and the answer's link need, and no word of it.

    Its words are in :class:`SearchToken`, each a keyed hash under the operation's search key
    (``cencomm.search``). References are plain ids, not foreign keys: the index sits below the apps
    whose records it points to, and those apps write and remove their own documents.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        FEEDBACK = "feedback", "Feedback"
        WARNING = "warning", "Warning"
        ALERT = "alert", "Alert"
        RESULT = "result", "Result"

    operation = models.ForeignKey("operations.Operation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()  # a message's posting time, a result's inspection time
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entry_point_id = models.BigIntegerField(null=True, blank=True)  # the author's, or the result's
    administration_id = models.BigIntegerField(null=True, blank=True)  # likewise
    room_id = models.BigIntegerField(null=True, blank=True)  # messages
    message_id = models.BigIntegerField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)  # the message's number in its room (its anchor)
    result_id = models.BigIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # the version indexed
    voided = models.BooleanField(default=False)  # a voided result stays findable, marked
    tokens = models.PositiveIntegerField(default=0)  # how many distinct tokens (ranking, the bench)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"], condition=models.Q(message_id__isnull=False), name="search_one_per_message"
            ),
            models.UniqueConstraint(
                fields=["result_id"], condition=models.Q(result_id__isnull=False), name="search_one_per_result"
            ),
        ]
        indexes = [models.Index(fields=["operation", "at"], name="search_operation_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id or self.result_id} in operation {self.operation_id}"


class SearchToken(models.Model):
    """One word of one document: a 64-bit keyed hash (``cencomm.search.token_hash``), never the word.

    ``sealed``: the word occurs only in fields sealed for the document's own administration (a
    result's notes, reference, parties, brands), so only its members find the document by it.
    """

    pk = models.CompositePrimaryKey("token", "document")
    token = models.BigIntegerField()
    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="+")
    sealed = models.BooleanField(default=False)  # (the foreign key's own index serves removals)

    def __str__(self) -> str:
        return f"token of document {self.document_id}"
