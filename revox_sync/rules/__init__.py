"""Policy rules: what `validate` checks beyond a file being well-formed (calling law, sure mistakes), with ids,
severities and sources (`rule`, `builtin`), set in `revox-sync.yaml` (`config`, `custom`), silenced in place
(`suppress`), run over the resolved configuration of every kind (`evaluate`) and reported for people and
tools (`report`)."""
