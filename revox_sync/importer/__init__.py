"""`revox-sync import`: live assistants to YAML files that a following `plan` finds in sync.

What a new file holds:
- `name`, the pinned `id`, then `prompt`, `voice`, the first-sentence fields, then the spec's field order;
- only the fields that differ from the API default (everything with `--with-defaults`), and inside nested
  objects only the sub-fields that differ from their default, because an omitted sub-field means the default;
- long text (the prompt always, other prompts when long or multi-line) in `prompts/<slug>*.md`, referenced with
  `!file` and written byte for byte; a literal `${` in any other string is written `$${`;
- no secret: values at sensitive paths as `"${VAR}"` placeholders (a new `REVOX_<SLUG>_...` variable unless a
  known one holds exactly that value), and every value the run knows to be secret (a sensitive variable's, the
  API key) as `${NAME}` wherever it occurs, longest first; a text holding one stays inline, since text read
  with `!file` is not interpolated; where no placeholder can stand (a `$` right before the secret) the whole
  value becomes a new variable; values shorter than `sensitive.MIN_SECRET_LENGTH` are not looked for (a
  warning says so); a write that would still hold a secret (a comment) is refused. The command prints which
  variables to set;
- server-suggested FAQ items awaiting an answer as a commented block under `faq_items`.

Re-importing into a file that already pins the assistant (or, without a pin, declares its exact name) is a
ruamel.yaml round-trip edit: only the values whose comparable form (`normalize.canonical`) differs from the
remote are replaced, so comments, key order, quoting, `!file` includes and `${VAR}` references survive. Files
that would change are only written with `--overwrite`; every change is computed and checked before the first
write, every write is atomic, and nothing is written outside the config directory. A re-import also turns
known secrets that an existing file holds in plaintext into placeholders.

An assistant that a file generates (a `for_each` file, or one that `extends` a template, with or without
for_each), matched as `plan` matches (pinned id, else exact name), is never written, even with --overwrite,
and never gets a file of its own: import prints which file and row (or template) generates it and the
top-level fields in which the remote drifted from it (compared as `plan` compares), and exits 0. Writing
into such a file would put values into what many assistants share (or, for a file that only extends, fields
its template provides into the file that overrides them); a file of its own would declare it twice. A file
that generates assistants but does not load stops the import before anything is written: its assistants
could not be told from the others.

The modules, one concern each: `clean` (server-owned fields and defaults out), `placeholders` (the secrets),
`style` (YAML as a person writes it), `comments` (suggested FAQ items, comments that stay put), `layout`
(which file holds which assistant), `fleet` (the assistants a file generates, reported), `protect` (no secret
left in a document), `create` (a new file), `reimport` (an edit of an existing file), `voices` (clone
references and voices.yaml) and `command` (the run, checked before the first write).
"""

from revox_sync.importer.command import run_import

__all__ = ["run_import"]
