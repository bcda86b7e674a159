"""``python -m paperlib.experiments.worker REPLY_FD``: a worker process of :mod:`.parallel` (started with pinned
numerics; reads tasks as JSON lines on stdin, replies on the file descriptor ``REPLY_FD``)."""

import sys

from .parallel import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(int(sys.argv[1])))
