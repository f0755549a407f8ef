"""The `d2lcourse` command line: demo, grade, check, doctor (COURSE_SPEC.md)."""
import argparse
import sys

DEFAULT_DEMO_ASSIGNMENT = "04_softmax_regression"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="d2lcourse", description="Deep Learning Basics: the course's command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="grade a sample class on a throw-away copy of the course")
    demo.add_argument("assignment", nargs="?", default=DEFAULT_DEMO_ASSIGNMENT,
                      help=f"assignment to demonstrate (default: {DEFAULT_DEMO_ASSIGNMENT})")
    demo.add_argument("--workers", type=int, default=2)
    demo.add_argument("--keep", metavar="DIR", help="build the course copy in DIR and keep it")

    grade = commands.add_parser("grade", help="grade every submission of an assignment")
    grade.add_argument("assignment")
    grade.add_argument("--course", metavar="DIR", help="nbgrader course root "
                                                       "(default: assignments/)")
    grade.add_argument("--student", action="append", metavar="ID",
                       help="grade only this student (repeatable)")
    grade.add_argument("--workers", type=int, default=1, metavar="N",
                       help="submissions graded at once on this machine")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler, e.g. tcp://127.0.0.1:8786")
    grade.add_argument("--force", action="store_true",
                       help="regrade submissions that are already graded and unchanged")
    grade.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="wall-clock limit per submission")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code without bubblewrap (only where it cannot run; "
                            "the report says so)")

    check = commands.add_parser("check", help="check your notebook against its public tests")
    check.add_argument("notebook")

    commands.add_parser("doctor", help="is this machine ready for the course?")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from d2lcourse import doctor
        return doctor.main()
    if args.command == "check":
        from d2lcourse import selfcheck
        return selfcheck.main(args.notebook)
    if args.command == "grade":
        return run_grade(args)
    if args.command == "demo":
        from d2lcourse import demo
        return demo.main(args.assignment, workers=args.workers, keep=args.keep)
    return 2


def run_grade(args):
    from dataclasses import replace

    from d2lcourse.course import get_assignment
    from d2lcourse.autograder.grade import grade
    from d2lcourse.autograder.sandbox import Limits
    if args.workers < 1:
        raise SystemExit("d2lcourse: --workers must be at least 1")
    limits = Limits() if args.timeout is None else replace(Limits(), seconds=args.timeout)
    grade(get_assignment(args.assignment), args.course, args.student, args.workers,
          args.scheduler, args.force, args.unsafe_no_sandbox, limits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
