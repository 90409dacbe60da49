"""The pull-request comment of the GitHub Action (`action.yml`): one comment per environment, found by a
hidden marker naming the environment and updated in place on every push, so two plan jobs (staging,
production) never overwrite each other's comment.

Run as `python -m revox_sync.pr_comment --environment ENV --body-file plan.md` with the `GITHUB_TOKEN`,
`GITHUB_REPOSITORY`, `GITHUB_API_URL` and `GITHUB_EVENT_PATH` that GitHub Actions sets."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from revox_sync.hosts import shown_url
from revox_sync.output import printable

BOT = "github-actions[bot]"  # who posts with the workflow's GITHUB_TOKEN
MAX_COMMENT_CHARS = 65_536  # GitHub refuses a longer comment body
PAGE = 100


def marker(environment: str) -> str:
    """The hidden first line of an environment's comment. The name is reduced to characters that cannot
    end an HTML comment or look like another environment's marker."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", environment or "default").replace("--", "-_")
    return f"<!-- revox-sync plan: {name} -->"


def comment_body(environment: str, markdown: str) -> str:
    """The comment: the marker, then the Markdown plan (cut to what GitHub accepts)."""
    head = marker(environment) + "\n"
    room = MAX_COMMENT_CHARS - len(head)
    text = (
        markdown if len(markdown) <= room else markdown[: room - 60].rstrip() + "\n\n(cut: the comment limit)"
    )
    return head + text


def find_comment(comments: Iterable[Mapping[str, Any]], environment: str, author: str = BOT) -> int | None:
    """The id of the first comment by `author` that carries this environment's marker on its first line
    (a comment someone else wrote, or quoting the marker further down, is never taken over)."""
    wanted = marker(environment)
    for comment in comments:
        body = str(comment.get("body") or "")
        login = str((comment.get("user") or {}).get("login") or "")
        if login == author and body.split("\n", 1)[0].strip() == wanted:
            return int(comment["id"])
    return None


def upsert(
    api_url: str,
    repository: str,
    number: int,
    token: str,
    environment: str,
    markdown: str,
    *,
    author: str | None = None,
) -> str:
    """Update this environment's comment on pull request `number`, or create it; 'updated' or 'created'.
    Only a comment by `author` is updated (default: whoever the token posts as)."""
    import httpx

    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    base = f"{api_url.rstrip('/')}/repos/{repository}"
    body = {"body": comment_body(environment, markdown)}
    with httpx.Client(headers=headers, timeout=30.0, follow_redirects=False) as client:
        author = author or _poster(client, api_url)
        comments: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = client.get(f"{base}/issues/{number}/comments", params={"per_page": PAGE, "page": page})
            answer.raise_for_status()
            batch = answer.json()
            comments += batch
            if len(batch) < PAGE:
                break
            page += 1
        found = find_comment(comments, environment, author)
        if found is not None:
            client.patch(f"{base}/issues/comments/{found}", json=body).raise_for_status()
            return "updated"
        client.post(f"{base}/issues/{number}/comments", json=body).raise_for_status()
        return "created"


def _poster(client: Any, api_url: str) -> str:
    """Who the token posts as: a personal token's user, else the workflow's bot (its GITHUB_TOKEN may not
    read `/user`)."""
    answer = client.get(f"{api_url.rstrip('/')}/user")
    login = answer.json().get("login") if answer.status_code == 200 else None
    return login if isinstance(login, str) and login else BOT


def _pull_request_number(event_path: str | None) -> int | None:
    if not event_path:
        return None
    try:
        with open(event_path, encoding="utf-8") as handle:
            event = json.load(handle)
        return int(event["pull_request"]["number"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revox_sync.pr_comment", description=__doc__)
    parser.add_argument("--environment", default="", help="the revox-sync environment the plan is for")
    parser.add_argument("--body-file", required=True, help="the Markdown plan")
    parser.add_argument(
        "--author", default=None, help=f"who posts the comments (default: the token's user, else {BOT})"
    )
    args = parser.parse_args(argv)
    env = os.environ
    token, repository = env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", "")
    number = _pull_request_number(env.get("GITHUB_EVENT_PATH"))
    if not token or not repository or number is None:
        print(
            "error: not a pull request run (GITHUB_TOKEN, GITHUB_REPOSITORY and the event's pull request are needed)",
            file=sys.stderr,
        )
        return 1
    try:
        with open(args.body_file, encoding="utf-8") as handle:
            markdown = handle.read()
        done = upsert(
            env.get("GITHUB_API_URL", "https://api.github.com"),
            repository,
            number,
            token,
            args.environment,
            markdown,
            author=args.author,
        )
    except Exception as exc:  # the message never holds the token (httpx does not quote headers) nor the
        # credentials of a URL it quotes
        text = (
            shown_url(str(exc).replace(token, "(sensitive)")).splitlines()[0]
            if str(exc)
            else type(exc).__name__
        )
        print(printable(f"error: could not comment on pull request #{number}: {text}"), file=sys.stderr)
        return 1
    print(printable(f"{done} the plan comment for {args.environment or 'default'} on pull request #{number}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
