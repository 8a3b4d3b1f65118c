"""Download a hub repo once, on the master, at a pinned revision, into a folder named by its commit.

    fetch_hub.py --repo_id NS/NAME [--revision REV] [--repo_type model|dataset] --out_root DIR [--token_stdin]
                 [--resolve_only]

Resolves REV (default `main`) to the repo's commit, then snapshot-downloads that commit into
DIR/hub-<commit>/ (kept, and not downloaded again, when a complete copy is there: the marker file
.tuneforge-complete). The workers get the folder from the master, never from the hub.
With --token_stdin the first line of stdin is the hub token (HF_TOKEN on the worker): it never appears on a
command line, in the environment of another process, or in a file.

With --resolve_only nothing is downloaded: REV is only checked and resolved.

Exit 0 with one JSON line on stdout: {"commit", "folder", "files", "bytes", "downloaded"} ({"commit"} with
--resolve_only).
Exit 65 with one line on stderr, `fetch_hub: <repo id>: <reason>`, for a repo that does not exist or
that the token cannot see, a revision that does not exist, or a gated repo without access.
"""

import argparse
import json
import os
import shutil
import sys

PROGRAM = "fetch_hub"
EXIT_DATA = 65
COMPLETE = ".tuneforge-complete"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo_id", required=True)
    p.add_argument("--revision", default="main")
    p.add_argument("--repo_type", default="model", choices=("model", "dataset"))
    p.add_argument("--out_root", required=True)
    p.add_argument("--token_stdin", action="store_true")
    p.add_argument("--resolve_only", action="store_true")
    return p.parse_args(argv)


def folder_size(folder: str) -> tuple[int, int]:
    files = total = 0
    for root, dirs, names in os.walk(folder):
        for name in names:
            if name == COMPLETE:
                continue
            files += 1
            total += os.path.getsize(os.path.join(root, name))
    return files, total


def refusal(args, error: Exception) -> str | None:
    """The reason a user can act on, or None for an error that is not about the spec (the hub down, ...)."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    if isinstance(error, RevisionNotFoundError):
        return f"revision {args.revision!r} not found in the {args.repo_type} repo"
    if isinstance(error, GatedRepoError):
        return "gated repo: accept its terms on the hub and set HF_TOKEN on the worker"
    if isinstance(error, RepositoryNotFoundError):
        return f"no such {args.repo_type} repo on the hub (or it is private: set HF_TOKEN on the worker)"
    return None


def fetch(args, token: str | None) -> dict:
    from huggingface_hub import HfApi, snapshot_download

    info = HfApi(token=token).repo_info(args.repo_id, revision=args.revision, repo_type=args.repo_type)
    commit = info.sha
    if args.resolve_only:
        return {"commit": commit}
    folder = os.path.join(args.out_root, f"hub-{commit}")
    downloaded = not os.path.exists(os.path.join(folder, COMPLETE))
    if downloaded:
        incoming = f"{folder}.incoming"
        shutil.rmtree(incoming, ignore_errors=True)
        snapshot_download(args.repo_id, revision=commit, repo_type=args.repo_type, local_dir=incoming, token=token)
        # local_dir keeps huggingface_hub's own bookkeeping in .cache/: not part of the model.
        shutil.rmtree(os.path.join(incoming, ".cache"), ignore_errors=True)
        open(os.path.join(incoming, COMPLETE), "w").close()
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(incoming, folder)
    files, total = folder_size(folder)
    return {"commit": commit, "folder": folder, "files": files, "bytes": total, "downloaded": downloaded}


def main(argv=None) -> int:
    args = parse_args(argv)
    token = sys.stdin.readline().strip() or None if args.token_stdin else None
    os.environ.pop("HF_HUB_OFFLINE", None)
    # No progress bars in the step's output.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        summary = fetch(args, token)
    except Exception as error:  # noqa: BLE001 - the hub's typed errors become refusals, the rest fails loudly
        reason = refusal(args, error)
        if reason is None:
            raise
        print(f"{PROGRAM}: {args.repo_id}: {reason}", file=sys.stderr, flush=True)
        return EXIT_DATA
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
