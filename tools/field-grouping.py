#!/usr/bin/env python3
"""How close a split plan is to an engineer's grouping of the same routes.

    tools/field-grouping.py score APP=PLAN=GROUPING [APP=PLAN=GROUPING ...]
    tools/field-grouping.py --self-test

PLAN is a cleave.toml written by `cleave analyze --plan`, GROUPING a
tests/field/<app>/grouping.toml written by hand; both are lists of
`[[function]] name = ".." routes = ["METHOD /path", ..]`. Only the routes both
list are compared (a route in one file only is counted and named, not scored).
One line per pair: routes compared, functions on each side, ARI and MoJoFM.
Exit 0; 2 when a file cannot be read or a route is in two functions of one file.

Formulas (n routes; plan A with clusters A_i, grouping B with clusters B_k;
v_ik = |A_i ∩ B_k|, a_i = |A_i|, b_k = |B_k|, C(x) = x(x-1)/2):

  Adjusted Rand index (Hubert & Arabie 1985):
      index = sum_ik C(v_ik),  sa = sum_i C(a_i),  sb = sum_k C(b_k)
      expected = sa * sb / C(n),  top = (sa + sb) / 2
      ARI = (index - expected) / (top - expected)
  1 for the same partition, about 0 for a random one (can be negative). When
  top == expected (both partitions all singletons or both one cluster) the
  partitions are equal and ARI is 1.

  MoJoFM (Wen & Tzerpos 2004), built on MoJo's mno (Wen & Tzerpos 2003, the
  optimal algorithm): the fewest Move (one route to another function) and Join
  (two functions into one) operations that turn A into B is
      mno(A, B) = sum_i (a_i - max_k v_ik)  +  (l_A - g)
  where each A_i is tagged with a B_k it shares most routes with, g is the
  largest number of distinct B_k that can be tagged at once (a maximum
  bipartite matching between each A_i and its best B_k, ties included), the
  first sum counts moves and l_A - g the joins. Then
      MoJoFM(A, B) = 1 - mno(A, B) / max_X mno(X, B)
  with, for b_1 >= b_2 >= .. >= b_l the sizes of B's clusters (b_{l+1} = 0),
      max_X mno(X, B) = n - min_{j=0..l} (j + b_{j+1})
  (the worst X puts the j-th route of every B_k in its own cluster X_j, so each
  X_j moves nothing and the matching is as small as a vertex cover allows).
  1 for the same partition, 0 for the worst. `--self-test` checks both against
  hand-worked cases, mno against a breadth-first search over move/join
  sequences (every pair of partitions of 4 routes, 52 pairs of 5), and the
  maximum against a brute force over every partition of 6 routes.
"""
import itertools
import sys
import tomllib
from collections import Counter


def read_functions(path):
    """{route: function name} of a plan or grouping file."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    owner = {}
    for fun in doc.get("function", []):
        for route in fun.get("routes", []):
            if route in owner:
                raise ValueError(f"{path}: {route} is in {owner[route]} and {fun['name']}")
            owner[route] = fun["name"]
    return owner


def comb2(x):
    return x * (x - 1) // 2


def ari(a, b):
    """Adjusted Rand index of two labelings (lists of equal length)."""
    n = len(a)
    if n < 2:
        return 1.0
    index = sum(comb2(v) for v in Counter(zip(a, b)).values())
    sa = sum(comb2(v) for v in Counter(a).values())
    sb = sum(comb2(v) for v in Counter(b).values())
    expected = sa * sb / comb2(n)
    top = (sa + sb) / 2
    if top == expected:
        return 1.0
    return (index - expected) / (top - expected)


def max_matching(edges, left):
    """Size of a maximum bipartite matching; edges: {left node: [right nodes]}."""
    match = {}

    def augment(u, seen):
        for v in edges[u]:
            if v in seen:
                continue
            seen.add(v)
            if v not in match or augment(match[v], seen):
                match[v] = u
                return True
        return False

    return sum(1 for u in left if augment(u, set()))


def mno(a, b):
    """MoJo's fewest moves and joins turning labeling a into labeling b."""
    overlap = Counter(zip(a, b))
    clusters = sorted(set(a), key=str)
    best = {}
    for (i, k), v in overlap.items():
        best.setdefault(i, []).append((v, k))
    moves = 0
    edges = {}
    for i in clusters:
        top = max(v for v, _ in best[i])
        moves += sum(v for v, _ in best[i]) - top
        edges[i] = sorted((k for v, k in best[i] if v == top), key=str)
    return moves + len(clusters) - max_matching(edges, clusters)


def max_mno(b):
    sizes = sorted(Counter(b).values(), reverse=True) + [0]
    return len(b) - min(j + sizes[j] for j in range(len(sizes)))


def mojofm(a, b):
    worst = max_mno(b)
    if worst == 0:
        return 1.0
    return 1 - mno(a, b) / worst


def compare(plan, grouping):
    """(shared routes, plan only, grouping only, ARI, MoJoFM, functions in each)."""
    shared = sorted(set(plan) & set(grouping))
    a = [plan[r] for r in shared]
    b = [grouping[r] for r in shared]
    return {
        "routes": len(shared),
        "plan_only": sorted(set(plan) - set(grouping)),
        "grouping_only": sorted(set(grouping) - set(plan)),
        "plan_functions": len(set(a)),
        "grouping_functions": len(set(b)),
        "ari": ari(a, b),
        "mojofm": mojofm(a, b),
    }


def partitions(items):
    """Every set partition of items, as labelings."""
    if not items:
        yield []
        return
    for rest in partitions(items[1:]):
        used = max(rest, default=-1) + 1
        for label in range(used + 1):
            yield [label] + rest


def canonical(labels):
    """A partition as a frozenset of frozensets of positions."""
    groups = {}
    for pos, label in enumerate(labels):
        groups.setdefault(label, set()).add(pos)
    return frozenset(frozenset(g) for g in groups.values())


def mno_brute(a, b):
    """Breadth-first search over Move and Join operations (tiny inputs only)."""
    start, goal = canonical(a), canonical(b)
    frontier, seen, steps = [start], {start}, 0
    while frontier:
        if goal in frontier:
            return steps
        nxt = []
        for part in frontier:
            clusters = list(part)
            found = []
            for x, y in itertools.combinations(clusters, 2):
                found.append([c for c in clusters if c not in (x, y)] + [x | y])
            for c in clusters:
                for obj in c:
                    rest = [d for d in clusters if d != c] + ([c - {obj}] if len(c) > 1 else [])
                    found.append(rest + [frozenset({obj})])
                    for d in clusters:
                        if d != c:
                            found.append([e for e in rest if e != d] + [d | {obj}])
            for f in found:
                f = frozenset(frozenset(g) for g in f)
                if f not in seen:
                    seen.add(f)
                    nxt.append(f)
        frontier, steps = nxt, steps + 1
    raise AssertionError("unreachable")


def self_test():
    checks = []

    def check(name, got, want):
        ok = abs(got - want) < 1e-9
        checks.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got:.6f} (want {want:.6f})")

    same = ["x", "x", "y", "y", "z"]
    renamed = ["p", "p", "q", "q", "r"]
    check("ARI identical", ari(same, same), 1.0)
    check("ARI identical up to names", ari(same, renamed), 1.0)
    # sklearn's documented example: adjusted_rand_score([0,0,1,1], [0,0,1,2]) = 4/7
    check("ARI one cluster split", ari([0, 0, 1, 1], [0, 0, 1, 2]), 4 / 7)
    check("ARI singletons vs one cluster", ari([0, 1, 2, 3], [0, 0, 0, 0]), 0.0)
    check("ARI symmetric", ari([0, 0, 1, 2], [0, 0, 1, 1]), 4 / 7)
    check("mno identical", mno(same, renamed), 0)
    # singletons into one cluster of 4: three joins
    check("mno singletons -> one", mno([0, 1, 2, 3], [0] * 4), 3)
    # one cluster of 4 into singletons: three moves
    check("mno one -> singletons", mno([0] * 4, [0, 1, 2, 3]), 3)
    # {1,2,3}{4,5} -> {1,2}{3,4,5}: move 3
    check("mno one move", mno([0, 0, 0, 1, 1], [0, 0, 1, 1, 1]), 1)
    # {1,2}{3,4}{5,6} -> {1,2,3,4}{5,6}: one join
    check("mno one join", mno([0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 1, 1]), 1)
    # ties: A1={1,2} tagged B1 or B2, A2={3} only B1; the matching sends A1 to B2
    check("mno tie matched", mno([0, 0, 1], [0, 1, 0]), 1)
    check("MoJoFM identical", mojofm(same, renamed), 1.0)
    check("MoJoFM singletons vs one cluster", mojofm([0, 1, 2, 3], [0] * 4), 0.0)
    # brute force: max over all partitions X of mno(X, B) equals the closed form
    for b in ([0, 0, 0, 1, 1, 2], [0, 1, 2, 3, 4, 5], [0] * 6, [0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 1, 2]):
        brute = max(mno(x, b) for x in partitions(list(range(len(b)))))
        check(f"max mno vs brute force, B sizes {sorted(Counter(b).values())}", max_mno(b), brute)
        best = min(mojofm(x, b) for x in partitions(list(range(len(b)))))
        check(f"MoJoFM worst is 0, B sizes {sorted(Counter(b).values())}", best, 0.0)
    # brute force: mno equals the fewest moves and joins found by search, for
    # every pair of partitions of 4 routes and a sample of 5
    pairs = list(itertools.product(partitions(list(range(4))), repeat=2))
    fives = list(partitions(list(range(5))))
    pairs += [(fives[i], fives[(7 * i + 3) % len(fives)]) for i in range(len(fives))]
    wrong = [(a, b) for a, b in pairs if mno(a, b) != mno_brute(a, b)]
    check(f"mno vs search over {len(pairs)} pairs (mismatches)", len(wrong), 0)
    print(f"{sum(checks)}/{len(checks)} checks passed")
    return 0 if all(checks) else 1


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) < 3 or argv[1] != "score":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    rows = []
    for arg in argv[2:]:
        try:
            app, plan_path, grouping_path = arg.split("=", 2)
            r = compare(read_functions(plan_path), read_functions(grouping_path))
        except (ValueError, OSError, tomllib.TOMLDecodeError) as e:
            print(f"field-grouping: {arg}: {e}", file=sys.stderr)
            return 2
        rows.append((app, r))
        for side in ("plan", "grouping"):
            only = r[f"{side}_only"]
            if only:
                shown = ", ".join(only[:4]) + (", .." if len(only) > 4 else "")
                print(f"  {app}: {len(only)} route(s) only in the {side}, not scored: {shown}", file=sys.stderr)
    print(f"{'app':28s} {'routes':>6s} {'fn':>4s} {'hand':>4s} {'ARI':>6s} {'MoJoFM':>6s}")
    for app, r in rows:
        print(
            f"{app:28s} {r['routes']:6d} {r['plan_functions']:4d} {r['grouping_functions']:4d}"
            f" {r['ari']:6.3f} {r['mojofm']:6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
