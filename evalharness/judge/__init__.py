"""A judge model: the fallback reader of replies the extraction rules cannot read, and the
scorer of open-ended items by a benchmark's rubric, with every verdict accounted for.

Any model route can judge (`judge=` config group; built through the model registry). Per sample
the route of the reading (`read_status`: rule, judge, unreadable), the judge's raw reply, its
answer, the hash of its prompt and, where it gave none, the reason are stored; the judge's
identity and prompts are part of the run's key; verdicts are cached in the results folder so
that a rerun or a rescore asks nothing twice; on a share of the replies the rules read the judge
is asked too, and its agreement with them is reported with a CI. A benchmark whose official
script has a judge read every reply (`OfficialJudged`: HallusionBench) gets its official reading
from the judge, asked in the script's words.
"""

from evalharness.judge._cache import CACHE_FILE, VerdictCache
from evalharness.judge._judge import (
    Judge,
    JudgeSettingError,
    JudgeSpec,
    Verdict,
    build_judge,
    judge_spec,
)
from evalharness.judge._prompt import GRADES, NONE, PROMPT_VERSION, Ask, grade_ask, parse, read_ask
from evalharness.judge._review import (
    COLUMNS,
    Item,
    OfficialJudged,
    blank,
    judge_summary,
    review,
    route_estimates,
)

__all__ = [
    "CACHE_FILE",
    "COLUMNS",
    "GRADES",
    "NONE",
    "PROMPT_VERSION",
    "Ask",
    "Item",
    "Judge",
    "JudgeSettingError",
    "JudgeSpec",
    "OfficialJudged",
    "Verdict",
    "VerdictCache",
    "blank",
    "build_judge",
    "grade_ask",
    "judge_spec",
    "judge_summary",
    "parse",
    "read_ask",
    "review",
    "route_estimates",
]
