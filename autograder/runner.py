"""The only program that runs inside the sandbox: it defines a student's functions and
answers calls to them. It never sees a test, an expected value or a score.

Protocol (d2lcourse.autograder.wire frames on stdin/stdout):

    grader -> {"op": "load", "functions": [...], "setup": [...], "solutions": {...}}
    runner -> {"op": "loaded", "missing": {name: reason}}
    grader -> {"op": "call", "function": name, "seed": s, "watch": [...]} + args, kwargs
    runner -> {"op": "result", "error": null | [type, message, where], "apis_used": [...]}
              + value and the arguments as they are after the call (in-place updates);
              a broken rule for every graded function (checks.properties) is an error
              ("seconds" in both replies: time spent running the student's code)
    grader -> {"op": "exit"}

The grader believes none of it beyond what it can check: replies are parsed strictly and
bounded (wire.py), "apis_used" and "seconds" are informative (a reported API use can only
cost points; what a function may use is decided from its source in the grader).

Started as `runner --zygote FD [module ...]` it is instead the zygote (zygote.py): it
imports the runner's modules and the given ones, reads Fashion-MNIST's training
split, and forks a fresh runner for every submission.
"""
import importlib
import os
import sys
import time

from d2lcourse.autograder import zygote


def protocol_streams():
    """Keep stdin/stdout for the protocol; give student code an empty stdin and stderr."""
    incoming = os.fdopen(os.dup(0), "rb", buffering=0)
    outgoing = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    return incoming, outgoing


def reader(stream):
    def read_exactly(size):
        chunks = []
        while size:
            chunk = stream.read(size)
            if not chunk:
                raise EOFError("the grader closed the pipe")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)
    return read_exactly


def serve(incoming, outgoing):
    # Here, not at the top: a cold runner imports MXNet after `answer` denied namespaces,
    # so that the filter binds the threads MXNet starts (a warm one has them preloaded).
    from d2lcourse.checks.core import local_invoker
    from d2lcourse.grading import Missing, define_functions
    from d2lcourse.autograder import wire

    read_exactly = reader(incoming)
    request, _ = wire.receive(read_exactly)
    started = time.perf_counter()
    functions = define_functions(request["functions"], request["setup"], request["solutions"])
    missing = {name: wire.text(f.reason) for name, f in functions.items()
               if isinstance(f, Missing)}
    wire.send(outgoing, {"op": "loaded", "missing": missing,
                         "seconds": time.perf_counter() - started})
    while True:
        request, values = wire.receive(read_exactly)
        if request.get("op") != "call":
            return
        function = functions[request["function"]]
        args, kwargs = values["args"], values["kwargs"]
        started = time.perf_counter()
        outcome = local_invoker(function, request["function"])(
            args, kwargs, seed=request.get("seed"), watch=request.get("watch", ()))
        error = None if outcome.error is None else [wire.text(str(e)) for e in outcome.error]
        reply = {"op": "result", "error": error, "apis_used": outcome.apis_used,
                 "seconds": time.perf_counter() - started}
        try:
            wire.send(outgoing, reply, {"value": outcome.value, "args": args})
        except wire.WireError as error:
            wire.send(outgoing, {**reply, "error": ["WireError", wire.text(str(error)), ""]},
                      {"value": None, "args": args})


def preload(modules):
    """Import what every submission will need, and read the data, once for all."""
    for module in ("d2lcourse.checks.core", "d2lcourse.grading", "d2lcourse.autograder.wire"):
        importlib.import_module(module)  # what `serve` imports
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # the submission's own setup will report it
            pass
    if os.environ.get("D2LCOURSE_DATA"):
        from d2lcourse.data import DataError, available_splits, fashion_mnist_arrays
        for split in available_splits():  # the training split: the sandbox has no other
            try:
                fashion_mnist_arrays(split)
            except DataError:
                pass


def answer():
    """Answer one submission's requests on stdin/stdout, then exit."""
    zygote.deny_namespaces()  # before any student code, forked (warm) or not (cold)
    incoming, outgoing = protocol_streams()
    try:
        serve(incoming, outgoing)
    except EOFError:
        pass
    sys.stderr.flush()
    os._exit(0)  # skip MXNet's slow teardown


def main():
    if sys.argv[1:2] == ["--zygote"]:
        preload(sys.argv[3:])
        zygote.serve(int(sys.argv[2]))
        os._exit(0)
    answer()


if __name__ == "__main__":
    main()
