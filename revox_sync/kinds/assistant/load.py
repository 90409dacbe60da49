"""Assistant files to validated specs, each value with its `path:line:col` (through the config reader)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import YAML_SUFFIXES, display_path, is_within, link_error, same_dir, scan
from revox_sync.config.templates import TEMPLATES_DIR, Row, Templates, expand
from revox_sync.config.yaml import Document, Loc, PositionMap, read_document
from revox_sync.errors import ConfigErrors, LocatedError, LocatedWarning, Location, blocking
from revox_sync.kinds.assistant.checks import check_assistant
from revox_sync.names import as_first_spelt, name_key
from revox_sync.sensitive import Source, scrub, secret_values

if TYPE_CHECKING:
    from revox_sync.kinds.assistant.spec import AssistantSpec

# Files at the root of the config directory that other kinds (and the project) own: never assistant files.
RESERVED_ROOT_FILES = frozenset(
    {
        "phone_numbers.yaml",
        "phone_numbers.yml",
        "voices.yaml",
        "voices.yml",
        "revox-sync.yaml",
        "revox-sync.yml",
        TEMPLATES_DIR,  # templates are never assistants on their own
    }
)


def _error(path: str, message: str) -> LocatedError:
    return LocatedError(Location(path), message)


@dataclass(frozen=True)
class LoadedAssistant:
    path: Path  # the file
    data: dict[str, Any]  # plain Python after !file and ${}, valid; absent keys are unmanaged
    positions: PositionMap
    sensitive: frozenset[Loc]  # paths whose value came from a sensitive variable
    row: Row | None = None  # the for_each row this assistant was made from
    variables: Mapping[Loc, Source] = field(default_factory=dict)  # the variables each value was made from

    @property
    def spec(self) -> AssistantSpec:
        """The validated model, made again when asked (only `--online` asks): kept for every file, the
        models took more memory than the files' text."""
        from revox_sync.kinds.assistant.spec import AssistantSpec

        return AssistantSpec.model_validate(self.data)

    @property
    def name(self) -> str:
        return str(self.data["name"])  # validated: a string (strict models convert nothing)

    @property
    def id(self) -> str | None:
        found = self.data.get("id")
        return None if found is None else str(found)


@dataclass
class LoadResult:
    """Everything one load found; `collect_paths` returns it without raising for bad files."""

    assistants: list[LoadedAssistant] = field(default_factory=list)
    warnings: list[LocatedWarning] = field(default_factory=list)
    errors: list[LocatedError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every assistant file found, loaded or not

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ConfigErrors(self.errors)


def load_directory(
    config_dir: Path, *, variables: Mapping[str, str] | None = None, shallow: bool = False
) -> tuple[list[LoadedAssistant], list[LocatedWarning]]:
    """Load every assistant file under `config_dir`. Raises ConfigErrors with every error of every file.

    A directory without assistant files gives an empty list; the caller decides whether that is an error.
    `shallow` keeps only the positions of the first two levels of each file once it is checked (what a plan
    still points at: a name, an id, `voice.clone`).
    """
    config_dir = Path(config_dir)
    result = LoadResult()
    if not config_dir.exists():
        result.errors.append(
            _error(
                display_path(config_dir),
                f"config directory not found (looked for {os.path.abspath(config_dir)}; pass -d DIR)",
            )
        )
    elif not config_dir.is_dir():
        result.errors.append(_error(display_path(config_dir), "config directory is not a directory"))
    else:
        files, result.errors = scan(config_dir, config_dir, RESERVED_ROOT_FILES)
        _load_into(result, [(f, config_dir) for f in files], variables, shallow=shallow)
    result.raise_for_errors()
    return result.assistants, sorted(result.warnings)


def load_paths(
    paths: Sequence[Path],
    *,
    config_dir: Path | None = None,
    variables: Mapping[str, str] | None = None,
) -> tuple[list[LoadedAssistant], list[LocatedWarning]]:
    """Load the given files and directories (a directory is walked like a config directory).

    `config_dir`, when given and containing a path, is the root that `!file` includes must stay inside and
    where reserved files are skipped; otherwise a directory is its own root and a file's root is its folder.
    """
    result = collect_paths(paths, config_dir=config_dir, variables=variables)
    result.raise_for_errors()
    return result.assistants, result.warnings


def collect_paths(
    paths: Sequence[Path],
    *,
    config_dir: Path | None = None,
    variables: Mapping[str, str] | None = None,
    parallel: bool = False,
) -> LoadResult:
    """Like `load_paths`, but returns errors and warnings together instead of raising; `parallel` loads
    the files on every core when there are enough of them (`workers_for`)."""
    result = LoadResult()
    jobs: list[tuple[Path, Path]] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        root = config_dir if config_dir is not None and is_within(path, config_dir) else None
        problem = link_error(path, root) if root is not None else None
        if problem is not None:
            result.errors.append(problem)
            continue
        if not path.exists():
            result.errors.append(_error(display_path(path), "no such file or directory"))
            continue
        if path.is_dir():
            files, errors = scan(path, root or path, RESERVED_ROOT_FILES)
            result.errors.extend(errors)
            found = [(f, root or path) for f in files]
        elif not path.name.endswith(YAML_SUFFIXES):
            result.errors.append(_error(display_path(path), "not an assistant file (expected .yaml or .yml)"))
            continue
        else:
            file_root = root or path.parent
            if path.name in RESERVED_ROOT_FILES and same_dir(path.parent, file_root):
                continue
            found = [(path, file_root)]
        for file, file_root in found:
            key = os.path.abspath(file)
            if key not in seen:
                seen.add(key)
                jobs.append((file, file_root))
    _load_into(result, jobs, variables, workers_for(len(jobs)) if parallel else 1)
    result.warnings.sort()
    return result


def find_assistant_files(directory: Path, *, root: Path | None = None) -> list[Path]:
    """`*.yaml` / `*.yml` under `directory`, recursively, sorted; hidden files and folders are skipped, and
    so are the reserved file names at the root (`root` defaults to `directory`).

    Raises ConfigErrors when part of the tree cannot be read or a symbolic link leads outside `root`: a caller
    must never act as if the files there did not exist.
    """
    files, errors = scan(
        Path(directory), Path(root) if root is not None else Path(directory), RESERVED_ROOT_FILES
    )
    if errors:
        raise ConfigErrors(errors)
    return files


# Below this many files one process is faster: starting workers and sending the loaded files back costs more
# than the cores save (bench/bench_validate.py --crossover measures it).
POOL_MIN_FILES = 128  # measured: 64 files took 1.09x as long in two processes, 128 files 0.98x, 256 0.66x


def workers_for(files: int) -> int:
    """How many processes load `files` files: past the crossover, the cores this process may use that the
    load average says are idle (on a busy machine a pool only adds the cost of sending results back);
    `REVOX_SYNC_WORKERS` sets it (1: never a pool). The load average counts this run's own core (and the
    run just before it, a pre-commit hook run after another): one of them is this process's."""
    wanted = os.environ.get("REVOX_SYNC_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    if files < POOL_MIN_FILES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    idle = cores + 1 - os.getloadavg()[0] if hasattr(os, "getloadavg") else cores
    return max(1, min(cores, round(idle), files // (POOL_MIN_FILES // 2)))


@dataclass(frozen=True)
class _Claim:
    """A file's `name` or `id`, which no other file may declare: checked once every file is loaded, in
    order, so that files loaded apart (by several processes) are checked as one run."""

    key: str
    value: str
    here: Location
    at: str


@dataclass
class _Loaded:
    """What loading a run of files found, before the checks across files."""

    result: LoadResult = field(default_factory=LoadResult)
    claims: list[_Claim] = field(default_factory=list)


def _load_into(
    result: LoadResult,
    jobs: Sequence[tuple[Path, Path]],
    variables: Mapping[str, str] | None,
    workers: int = 1,
    *,
    shallow: bool = False,
) -> None:
    pooled = workers > 1 and len(jobs) > 1
    mode = _Mode(shallow, shape_first=len(jobs) < SHAPE_MAX_FILES * (workers if pooled else 1))
    if not mode.shape_first:  # built before any fork: the workers inherit the models
        from revox_sync.kinds.assistant.spec import AssistantSpec

        AssistantSpec.model_rebuild()  # deferred until first used otherwise
    parts = _in_pool(jobs, variables, workers, mode) if pooled else [_load_files(jobs, variables, mode)]
    first = len(result.errors)
    names: dict[str, tuple[Location, str]] = {}
    ids: dict[str, tuple[Location, str]] = {}
    for part in parts:
        result.files += part.result.files
        result.assistants += part.result.assistants
        result.warnings += part.result.warnings
        result.errors += part.result.errors
        for claim in part.claims:
            _check_unique(result, claim, names if claim.key == "name" else ids)
    result.errors[first:] = _one_line_per_mistake(result.errors[first:])


def _in_pool(
    jobs: Sequence[tuple[Path, Path]], variables: Mapping[str, str] | None, workers: int, mode: _Mode
) -> list[_Loaded]:
    """The files in `workers` processes, in runs of consecutive files (so `!file` and template caches still
    serve neighbours), their results in file order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context(
        "fork" if "fork" in methods else None
    )  # fork: imports are inherited
    # runs of consecutive files, a few per process, so that one slowed process does not hold up the rest
    size = max(POOL_MIN_FILES // 2, -(-len(jobs) // (workers * 4)))
    runs = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
    shared = None if variables is None else dict(variables)
    with ProcessPoolExecutor(min(workers, len(runs)), mp_context=context) as pool:
        return list(pool.map(_load_files, runs, [shared] * len(runs), [mode] * len(runs)))


@dataclass(frozen=True)
class _Mode:
    """How files are checked: `shallow` (see `load_directory`); `shape_first` reads each file against the
    models' shape before the models (see `checks.check_assistant`)."""

    shallow: bool = False
    shape_first: bool = True


# Per process, past this many files the models' own check (compiled, about 0.3 ms a file faster than
# reading their shape) pays for importing and building them (about 0.25 s).
SHAPE_MAX_FILES = 750


def _load_files(
    jobs: Sequence[tuple[Path, Path]], variables: Mapping[str, str] | None, mode: _Mode = _Mode()
) -> _Loaded:
    """Each file on its own (read, templates, rows, model): all that needs no other file."""
    env: Mapping[str, str] = os.environ if variables is None else variables
    includes: dict[str, str | tuple[str, int, int]] = {}
    templates: dict[str, Templates] = {}
    out = _Loaded()
    for file, root in jobs:
        out.result.files.append(file)
        resolver = templates.setdefault(os.path.abspath(root), Templates(root, env, includes))
        resolved = resolver.resolve(read_document(file, root, env, includes), file)
        for document, row in expand(resolved):
            _check_one(out, file, document, row, mode)
    return out


def _one_line_per_mistake(errors: list[LocatedError]) -> list[LocatedError]:
    """A mistake in a template is the same for every row of its fleet: one line naming the rows, not one
    line per row."""
    rows: dict[tuple[Location, str], list[str]] = {}
    first: dict[tuple[Location, str], LocatedError] = {}  # each group's first error: its kind
    for e in errors:
        base, marker, row = e.message.rpartition(" (row ")
        ends = bool(marker) and row.endswith(")") and ")" not in row[:-1]  # the row closes the message
        key = (e.location, base if ends else e.message)
        rows.setdefault(key, []).append(row[:-1] if ends else "")
        first.setdefault(key, e)
    out = []
    for key, where in rows.items():
        message = key[1]
        if len(where) == 1 or "" in where:
            out += [first[key].reworded(message + (f" (row {w})" if w else "")) for w in where]
        else:
            shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            out.append(first[key].reworded(f"{message} (rows {shown})"))
    return out


def _check_one(out: _Loaded, file: Path, document: Document, row: Row | None, mode: _Mode) -> None:
    """One assistant of a file (one of its rows, for a `for_each` file): every error names the row too."""
    result = out.result
    at = f" (row {row.location})" if row is not None else ""
    result.errors.extend(_in_row(e, at) for e in document.errors)
    if document.data is None:
        return
    data, positions = document.data, document.positions
    for key in ("name", "id"):
        value = data.get(key)
        if isinstance(value, str) and value:
            out.claims.append(_Claim(key, value, positions.value((key,)), at))
    if blocking(document.errors):
        return  # the data is incomplete: model errors would only add noise
    spec, issues = check_assistant(data, shape_first=mode.shape_first)
    for issue in issues:
        location = positions.key(issue.loc) if issue.at_key else positions.value(issue.loc)
        message = _redact_message(issue.message, issue.loc, data, document.sensitive) + at
        if issue.severity == "warning":
            result.warnings.append(LocatedWarning(location, message))
        else:
            result.errors.append(LocatedError(location, message))
    if spec is not None:
        kept = positions.shallow() if mode.shallow else positions
        result.assistants.append(
            LoadedAssistant(file, data, kept, frozenset(document.sensitive), row, document.variables)
        )


def _in_row(error: LocatedError, at: str) -> LocatedError:
    return error.reworded(error.message + at) if at and at not in error.message else error


def _redact_message(message: str, loc: Loc, data: dict[str, Any], sensitive: Iterable[Loc]) -> str:
    """Error messages quote the bad value at `loc`; a sensitive one is replaced before it reaches a terminal."""
    value: Any = data
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return message
    return str(scrub(message, list(secret_values(value, tuple(loc), frozenset(sensitive)))))


def _check_unique(result: LoadResult, claim: _Claim, seen: dict[str, tuple[Location, str]]) -> None:
    """Names are one name in any Unicode form; ids are compared as written."""
    key = name_key(claim.value) if claim.key == "name" else claim.value
    here = claim.here
    if key not in seen:
        seen[key] = Location(f"{here.path}:{here.line}{claim.at}"), claim.value
        return
    first, spelt = seen[key]
    what = "name" if claim.key == "name" else "pinned id"
    result.errors.append(
        LocatedError(
            here,
            f"duplicate {what} {claim.value!r}{claim.at}: {first.path} already declares it"
            + as_first_spelt(claim.value, spelt),
        )
    )
