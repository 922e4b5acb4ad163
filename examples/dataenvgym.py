"""DataEnvGym: a teacher proposes practice tasks and is paid by the student's measured improvement.

``TaskTeacher-v0`` holds a student (a nearest-neighbour learner by default, or any policy learning in
context with ``--student SPEC``) and held-out maths tasks; each teacher reply proposes tasks in the
maths schema, which are validated (their reference passes, they do not leak the answer, they copy no
held-out prompt) and taught. The reward is the student's normalized gain. Prints the return of the
teacher policy and of the privileged oracle teacher.

    python examples/dataenvgym.py --teacher smollm2 --episodes 5
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/dataenvgym.py     # CI budget: tiny-random, 1 episode
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import play_episode

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"


def teach(teacher, episodes: int, student: str, student_env: str) -> dict:
    """Mean return, valid proposals and the student's final score over ``episodes`` teaching episodes."""
    env = gym.make("TaskTeacher-v0", student=student, student_env=student_env, held_out=2 if TINY else 4)
    total, valid, after = 0.0, 0, []
    for episode in range(episodes):
        turns = play_episode(teacher, env, seed=episode)
        total += sum(turn.reward for turn in turns)
        valid += sum(turn.info["verdict"]["evidence"].get("valid_proposals", 0) for turn in turns)
        after.append(turns[-1].info["verdict"]["evidence"].get("after", 0.0))
    env.close()
    return {"mean_return": total / episodes, "valid_proposals": valid, "student_final": after}


def main() -> None:
    """Teach with the policy and with the oracle; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--student", default="retrieval")
    parser.add_argument("--student-env", default="MathCritique-v0")
    parser.add_argument("--episodes", type=int, default=1 if TINY else 5)
    args = parser.parse_args()
    sampling = {} if args.teacher == "oracle" else {"max_new_tokens": 32 if TINY else 512}
    teacher = make_policy(args.teacher, **sampling)
    print(json.dumps({"example": "dataenvgym", "teacher": args.teacher, "student": args.student,
                      "teacher_result": teach(teacher, args.episodes, args.student, args.student_env),
                      "oracle_result": teach(make_policy("oracle"), args.episodes, args.student,
                                             args.student_env)}))


if __name__ == "__main__":
    main()
