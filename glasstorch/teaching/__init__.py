"""Floor 9: teaching tools. `op_specs` (the op table as data), `gradcheck_sweep` (`glasstorch gradcheck`),
`trace_examples` (`glasstorch trace`); the exercises are in glasstorch/exercises/."""
