"""``python -m paperlib.launch [torchrun options] -m paperlib.train ...``: ``torchrun`` itself (same options, same
behaviour: rendezvous, elastic restarts, ``--max-restarts``), with a one-line error instead of a bare traceback
when the rendezvous fails: a node that never arrives, an endpoint that cannot be reached. It also sets
``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1`` (unless set): with the agents' shared store, a group restarted after a
failure can read the dead group's addresses (its nodes' restart counts differ) and hang or fail to connect.

Exit status: 0 done; 1 a worker failed (after ``--max-restarts`` restarts; torchrun's report names the rank);
3 the rendezvous did not complete.
"""

from __future__ import annotations

import os
import sys

RENDEZVOUS_FAILED = 3
SHARE_STORE_OFF = "TORCH_DISABLE_SHARE_RDZV_TCP_STORE"


def _join_timeout(rdzv_conf: str) -> str:
    """``join_timeout`` from torchrun's ``--rdzv-conf key=value,...`` (600 s, torchrun's default, if absent)."""
    for item in (rdzv_conf or "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "join_timeout" and value.strip():
            return value.strip()
    return "600"


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous.api import RendezvousConnectionError, RendezvousTimeoutError
    from torch.distributed.run import parse_args, run

    os.environ.setdefault(SHARE_STORE_OFF, "1")
    args = parse_args(argv)
    where = args.rdzv_endpoint or f"{args.master_addr}:{args.master_port}"
    try:
        run(args)
    except RendezvousTimeoutError:
        print(
            f"error: rendezvous timed out: {args.nnodes} node(s) expected at {where} (--rdzv-id={args.rdzv_id}) did "
            f"not all join within join_timeout={_join_timeout(args.rdzv_conf)} s; start torchrun on every node with "
            "the same --nnodes, --rdzv-endpoint and --rdzv-id, and check that each can reach the endpoint",
            file=sys.stderr,
        )
        return RENDEZVOUS_FAILED
    except RendezvousConnectionError as exc:
        print(f"error: cannot reach the rendezvous at {where}: {exc or type(exc).__name__}", file=sys.stderr)
        return RENDEZVOUS_FAILED
    except ChildFailedError as exc:
        print(exc.format_msg(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
