"""Values a parameter declaration (``xbar.config.Constraint`` = ``xbar.sweep.Param``) must reject,
generated from its type and range (shared by the sweep-schema and configuration tests)."""


def invalid_values(c) -> list:
    """Wrong types, ``None`` unless optional, NaN, just outside each bound, an unknown choice."""
    wrong_type = {
        int: [2.5, "3", True],
        float: ["1.0", True, float("nan")],
        bool: [1, "yes"],
        str: [1],
    }
    vals = list(wrong_type[c.type]) + ([] if c.optional else [None])
    if c.low is not None:
        vals.append(c.low if c.low_open else c.low - 1)
    if c.high is not None:
        vals.append(c.high if c.high_open else c.high * 2 + 1)
    if c.choices:
        vals.append(str(c.choices[0]) + "-unknown")
    return vals
