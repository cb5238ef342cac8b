"""Publishing an exported model folder on the Hugging Face hub, with ``huggingface_hub``.

The repo is created if needed (``private`` applies then), a branch is created for a
``revision`` other than ``main``, and the files ct wrote into the folder (an explicit list,
:func:`ct.export.save.published_files`; nothing else in the folder) are uploaded in one
commit. The token comes from ``HF_TOKEN`` or the token ``huggingface-cli login`` stored (or
``--token``, which the CLI accepts with a warning: it lands in shell history). A failed upload
leaves the local folder as it was (complete), so the push can simply be retried.

Example:
    >>> push_folder_to_hub("exports/my-ct-model", "me/my-ct-model", private=True)
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ct.errors import HubError
from ct.export.save import published_files, write_export

logger = logging.getLogger(__name__)

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
DEFAULT_COMMIT_MESSAGE = "Upload sentence encoder trained with ct (Contrastive Tension)"


@dataclass
class PushPlan:
    """What a push would do: the files (relative path, bytes) and where they go."""

    folder: Path
    repo_id: str
    revision: str
    private: bool
    commit_message: str
    files: list[tuple[str, int]]

    @property
    def url(self) -> str:
        suffix = "" if self.revision == "main" else f"/tree/{self.revision}"
        return f"https://huggingface.co/{self.repo_id}{suffix}"

    def describe(self) -> str:
        """A listing of every file and the destination, for ``--dry-run``."""
        total = sum(size for _, size in self.files)
        lines = [f"would upload {len(self.files)} files ({total / 1e6:.1f} MB) from "
                 f"{self.folder} to {self.url} (repo {self.repo_id}, revision "
                 f"{self.revision}, {'private' if self.private else 'public'} if created, "
                 f"commit message {self.commit_message!r}):"]
        lines += [f"  {size:>12,}  {name}" for name, size in self.files]
        return "\n".join(lines)


def check_repo_id(repo_id: str) -> str:
    """Returns ``repo_id`` if it is ``namespace/name``; raises HubError otherwise."""
    if not _REPO_ID.fullmatch(repo_id or ""):
        raise HubError(f"hub repo name {repo_id!r} must be namespace/name (e.g. "
                       "your-user/my-ct-model): letters, digits, '-', '_' and '.'")
    return repo_id


def resolve_token(token: Optional[str]) -> str:
    """``token``, else ``HF_TOKEN`` / the stored login token; raises HubError if none."""
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise HubError("no Hugging Face token: run `huggingface-cli login` or set HF_TOKEN "
                       "(the token needs write access)")
    return found


def describe_token(token: Optional[str]) -> str:
    """One line for ``--dry-run``: whether a push would find a token, and where."""
    if token:
        return "token: given with --token"
    from huggingface_hub import get_token

    if os.environ.get("HF_TOKEN"):
        return "token: found in HF_TOKEN"
    if get_token():
        return "token: found (the stored huggingface-cli login)"
    return ("token: none found - the push would fail; run `huggingface-cli login` or set "
            "HF_TOKEN (write access)")


def plan_push(folder: str | Path, repo_id: str, *, revision: Optional[str] = None,
              private: bool = False, commit_message: Optional[str] = None) -> PushPlan:
    """Checks the repo name and lists what :func:`push_folder_to_hub` would upload: the files
    ct wrote (:func:`ct.export.save.published_files`)."""
    folder = Path(folder)
    files = [(name, (folder / name).stat().st_size) for name in published_files(folder)]
    return PushPlan(folder, check_repo_id(repo_id), revision or "main", private,
                    commit_message or DEFAULT_COMMIT_MESSAGE, files)


def push_folder_to_hub(folder: str | Path, repo_id: str, *, token: Optional[str] = None,
                       private: bool = False, revision: Optional[str] = None,
                       commit_message: Optional[str] = None, api=None) -> str:
    """Uploads ``folder`` to the hub model repo ``repo_id``; returns the commit URL.

    Args:
        folder: an exported model folder (``ct export``).
        repo_id: ``namespace/name``; created if it does not exist.
        token: a write token (default: ``HF_TOKEN`` or the stored login).
        private: create the repo private (an existing repo keeps its visibility).
        revision: the branch to commit to (created from main if missing); default main.
        commit_message: the commit's message.
        api: a ``huggingface_hub.HfApi``-like object (tests pass a fake); default a new
            ``HfApi``.

    Raises:
        HubError: a bad repo name or no token (exit 2), or the upload failed (exit 1; the
            local folder is untouched).
    """
    plan = plan_push(folder, repo_id, revision=revision, private=private,
                     commit_message=commit_message)
    token = resolve_token(token)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        api.create_repo(plan.repo_id, token=token, private=plan.private, repo_type="model",
                        exist_ok=True)
        if plan.revision != "main":
            api.create_branch(plan.repo_id, branch=plan.revision, token=token,
                              repo_type="model", exist_ok=True)
        commit = api.upload_folder(folder_path=str(plan.folder), repo_id=plan.repo_id,
                                   repo_type="model", revision=plan.revision, token=token,
                                   commit_message=plan.commit_message,
                                   allow_patterns=[name for name, _ in plan.files])
    except Exception as exc:  # network, auth, permission: the local folder stays complete
        error = HubError(f"upload of {plan.folder} to {plan.url} failed "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); the "
                         f"folder is complete: retry with `ct export {plan.folder} "
                         f"--push-to-hub {plan.repo_id}`")
        error.exit_status = 1
        raise error from None
    url = str(getattr(commit, "commit_url", None) or commit or plan.url)
    logger.debug("pushed %d files to %s", len(plan.files), plan.url)
    return url


def push_to_hub(encoder, repo_id: str, *, token: Optional[str] = None, private: bool = False,
                revision: Optional[str] = None, commit_message: Optional[str] = None,
                training_record: Optional[dict] = None, api=None) -> str:
    """Exports ``encoder`` (its folder as :meth:`SentenceEncoder.save` writes it, with a model
    card) and uploads it to the Hugging Face hub; returns the commit URL.

    Args:
        encoder: a :class:`ct.modeling.encoder.SentenceEncoder`.
        repo_id: ``namespace/name``; created if it does not exist.
        token: a write token (default: ``HF_TOKEN`` or the stored login).
        private: create the repo private.
        revision: the branch to commit to (default main).
        commit_message: the commit's message.
        training_record: how the model was trained, for the card (default: the
            ``ct_training.json`` of the folder it was loaded from).
        api: a ``huggingface_hub.HfApi``-like object (tests pass a fake).

    Example:
        >>> push_to_hub(SentenceEncoder.from_pretrained("runs/ct/final"), "me/my-ct-model")
    """
    check_repo_id(repo_id)
    token = resolve_token(token)
    with tempfile.TemporaryDirectory(prefix="ct-push-") as scratch:
        folder = Path(scratch) / repo_id.split("/")[-1]
        write_export(encoder, folder, training_record or encoder.training_record,
                     model_id=repo_id)
        return push_folder_to_hub(folder, repo_id, token=token, private=private,
                                  revision=revision, commit_message=commit_message, api=api)
