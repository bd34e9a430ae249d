"""Every write to results: post, correct, void and restore, validate, nil returns, categories and
reclassification, photos, key rotation; one module per question, the services re-exported here.

Each service checks the caller's membership, validates everything before it writes (a half-valid
post stores nothing, ``checks``), appends the stored version to the operation's results hash chain
under the chain's row lock, bumps the board sequence, records an audit event and publishes a board
event on commit (``versions``). Locks are always taken in the same order: results (by pk), chain
head, board sequence.
"""

from results.services.categories import category_add, category_rename, goods_reclassify
from results.services.correcting import result_correct
from results.services.inputs import LineInput, ResultInput
from results.services.keys import operation_key_rotate
from results.services.nil_returns import nil_return_post
from results.services.photos import MAX_PHOTOS_PER_RESULT, result_photo_add
from results.services.posting import result_post
from results.services.validating import result_validate
from results.services.voiding import result_restore, result_void

__all__ = [
    "MAX_PHOTOS_PER_RESULT",
    "LineInput",
    "ResultInput",
    "category_add",
    "category_rename",
    "goods_reclassify",
    "nil_return_post",
    "operation_key_rotate",
    "result_correct",
    "result_photo_add",
    "result_post",
    "result_restore",
    "result_validate",
    "result_void",
]
