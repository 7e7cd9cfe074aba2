"""Pushing a run's outputs to the Hugging Face Hub (the run config's `export`).

One repo per run: the trained model (the merged adapter, or a full fine-tune's model) at the
root, so `AutoModelForCausalLM.from_pretrained("owner/name")` loads it, and the adapter under
`adapter/` (`PeftModel.from_pretrained(base, "owner/name", subfolder="adapter")`), so the two
never drift apart across repos.

The token never comes from the config (configs are stored and shown): HF_TOKEN, else
HUGGING_FACE_HUB_TOKEN, from the trainer's environment. HF_ENDPOINT points at another Hub.
Everything here works on an `api` object with HfApi's methods (whoami, create_repo,
upload_folder), so it is tested without huggingface_hub; make_hub_api builds the real one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from .emit_types import Log
from .env_check import can_import
from .errors import TrainerError, config_error

TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
DEFAULT_ENDPOINT = "https://huggingface.co"
ADAPTER_PATH_IN_REPO = "adapter"


def hub_token(environ: Mapping[str, str]) -> Optional[str]:
    """HF_TOKEN first, as huggingface_hub reads them."""
    for name in TOKEN_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return None


def hub_url(repo_id: str, endpoint: Optional[str] = None) -> str:
    return f"{(endpoint or DEFAULT_ENDPOINT).rstrip('/')}/{repo_id}"


@dataclass(frozen=True)
class Upload:
    kind: str  # "merged" | "model" | "adapter"
    folder: str
    path_in_repo: str  # "" is the repo's root


def plan_uploads(config: dict, out_dir: str) -> list:
    """What the run pushes, from the folders train.py writes: `merged/` (LoRA + merge) or
    `model/` (full fine-tune) to the root, `adapter/` under adapter/."""
    export = config["export"]
    is_lora = config["lora"]["method"] == "lora"
    uploads = []
    if export["pushMerged"]:
        if not is_lora:
            uploads.append(Upload("model", os.path.join(out_dir, "model"), ""))
        elif config["merge"]["mergeAndUnload"]:
            uploads.append(Upload("merged", os.path.join(out_dir, "merged"), ""))
    if export["pushAdapter"] and is_lora:
        uploads.append(Upload("adapter", os.path.join(out_dir, "adapter"), ADAPTER_PATH_IN_REPO))
    return uploads


def check_hub_export(config: dict, environ: Mapping[str, str], has_hub_client: bool) -> Optional[str]:
    """Before training, so a push that cannot happen does not cost a GPU run. Returns the repo
    to push to, or None when the config asks for no push. The first two rules are zod's too
    (engineConfigIssues); the JSON Schema cannot carry them."""
    export = config["export"]
    repo = export.get("hubRepo")
    if not repo:
        return None
    is_lora = config["lora"]["method"] == "lora"
    if is_lora and export["pushMerged"] and not config["merge"]["mergeAndUnload"]:
        raise config_error(
            "export.pushMerged",
            "there is no merged model to push: merge.mergeAndUnload is off",
            hint="turn on merge.mergeAndUnload, or turn off export.pushMerged",
        )
    if not plan_uploads(config, ""):
        raise config_error(
            "export.hubRepo",
            "nothing to push: " + ("pushAdapter and pushMerged are both off" if is_lora else "a full fine-tune has no adapter"),
            hint="turn on export.pushMerged" + (" or export.pushAdapter" if is_lora else ""),
        )
    if hub_token(environ) is None:
        raise TrainerError(
            f"HF_TOKEN is missing: the trainer has no Hugging Face token to push to {repo} with",
            code="environment",
            field="export.hubRepo",
            hint="set HF_TOKEN (a token with write access) in the GPU worker's environment; "
            "tokens never go in the run config",
        )
    if not has_hub_client:
        raise TrainerError(
            "huggingface_hub does not import on this worker",
            code="environment",
            field="export.hubRepo",
            hint="pip install huggingface_hub (transformers depends on it), or leave export.hubRepo empty",
        )
    return repo


def _http_status(error: BaseException) -> Optional[int]:
    status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def verify_token(api, repo_id: str) -> Optional[str]:
    """Asks the Hub whose token this is, before training: a refused (401) or read-only token
    fails now rather than after hours of GPU time. Returns a warning for what it cannot be sure
    of (the Hub could not be asked, or the owner is not among the token user's organizations);
    the push is still tried at the end then."""
    try:
        who = api.whoami()
    except Exception as e:
        if _http_status(e) == 401:
            raise TrainerError(
                f"the Hub refused HF_TOKEN (HTTP 401): cannot push to {repo_id}",
                code="environment",
                field="export.hubRepo",
                hint="set HF_TOKEN to a valid token with write access",
            ) from e
        return f"could not check HF_TOKEN with the Hub before training ({type(e).__name__}); the push is tried at the end"
    if not isinstance(who, dict):
        return None
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise TrainerError(
            f"HF_TOKEN is a read-only token: cannot push to {repo_id}",
            code="environment",
            field="export.hubRepo",
            hint="set HF_TOKEN to a token with write access",
        )
    name = who.get("name")
    owners = {name} | {o.get("name") for o in who.get("orgs") or [] if isinstance(o, dict)}
    owner = repo_id.split("/", 1)[0]
    if isinstance(name, str) and owner not in owners:
        return f"HF_TOKEN belongs to {name}, and {owner} is not among its organizations: the push may be refused"
    return None


def push_outputs(api, repo_id: str, private: bool, uploads: list, run_id: str, log: Log, secret: str = "") -> str:
    """Creates the repo (`private` applies on creation only: an existing repo keeps its
    visibility) and uploads each folder as one commit. Returns the repo's URL. Files a previous
    push left in the repo stay unless this one overwrites them."""
    for u in uploads:
        if not os.path.isdir(u.folder):
            raise TrainerError(f"cannot push {u.kind}: {u.folder} does not exist", code="internal", field="export.hubRepo")
    try:
        url = str(api.create_repo(repo_id=repo_id, repo_type="model", private=private, exist_ok=True))
        for u in uploads:
            api.upload_folder(
                repo_id=repo_id,
                repo_type="model",
                folder_path=u.folder,
                path_in_repo=u.path_in_repo or None,
                commit_message=f"Distillery run {run_id}: {u.kind}",
            )
            log(f"pushed {u.kind} to {repo_id}{'/' + u.path_in_repo if u.path_in_repo else ''}", "info")
    except TrainerError:
        raise
    except Exception as e:
        detail = f"{type(e).__name__}: {e}"
        if secret:
            detail = detail.replace(secret, "***")
        raise TrainerError(
            f"pushing to the Hub repo {repo_id} failed: {detail}"[:2000],
            code="hub_push_failed",
            field="export.hubRepo",
            hint="the adapter and the merged model are saved with the run; check HF_TOKEN's write access and the network",
        ) from e
    return url


def make_hub_api(environ: Mapping[str, str]):
    from huggingface_hub import HfApi

    return HfApi(endpoint=environ.get("HF_ENDPOINT") or None, token=hub_token(environ))


@dataclass
class HubExport:
    api: object
    repo_id: str
    private: bool
    token: str
    endpoint: Optional[str] = None

    @property
    def url(self) -> str:
        return hub_url(self.repo_id, self.endpoint)

    def push(self, config: dict, out_dir: str, run_id: str, log: Log) -> str:
        return push_outputs(
            self.api, self.repo_id, self.private, plan_uploads(config, out_dir), run_id, log, self.token
        ) or self.url


def open_hub_export(
    config: dict,
    environ: Mapping[str, str],
    log: Log,
    has_hub_client: Optional[bool] = None,
    make_api: Callable[[Mapping[str, str]], object] = make_hub_api,
) -> Optional[HubExport]:
    """The preflight of a push: the checks above, then the token asked about. None: no push.
    `has_hub_client` defaults to whether huggingface_hub imports (asked only when pushing)."""
    if not config["export"].get("hubRepo"):
        return None
    if has_hub_client is None:
        has_hub_client = can_import("huggingface_hub")
    repo = check_hub_export(config, environ, has_hub_client)
    api = make_api(environ)
    warning = verify_token(api, repo)
    if warning:
        log(warning, "warn")
    token = hub_token(environ) or ""
    return HubExport(api, repo, bool(config["export"]["private"]), token, environ.get("HF_ENDPOINT") or None)
