"""Teacher environments (DataEnvGym): a policy proposes tasks and is paid by a student's improvement."""

from .env import TaskTeacherEnv
from .students import InContextStudent, RetrievalStudent, Student, make_student

__all__ = ["InContextStudent", "RetrievalStudent", "Student", "TaskTeacherEnv", "make_student"]
