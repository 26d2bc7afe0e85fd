"""Route-planning benchmark: the planner on the Li & Lim PDPTW instances, then on realistic days.

For each instance of a folder in the Li & Lim layout (``NAME.txt``, optional ``NAME.bks.txt`` and
``bks.csv``) and each time limit, the planner (``sharing.logistics.planning.solver.solve``) plans
it once; the plan must pass ``feasibility.violations``, and its distance, recomputed in double
precision from the routes, is compared with the best-known solution's: the gap (never below 0,
since the BKS put fewer vehicles first and a planner minimising distance alone may use one
more). Then it plans generated days of the three municipalities (the demo's sites, opening
hours, furniture, vans) with the time the app gives a planning. Prints a line per instance and
per day, and last one line of JSON (``distance`` in the instance's units, in km for the days).

    make bench-routing [INSTANCES=DIR] [LIMITS="10 60"]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sharing.accounts.demo import demo_data
from sharing.logistics.planning.distances import StraightLine
from sharing.logistics.planning.feasibility import Violation, violations
from sharing.logistics.planning.problem import Plan, Problem, Shipment, Vehicle, Window
from sharing.logistics.planning.solver import APP_SECONDS, solve

ROOT = Path(__file__).resolve().parent.parent

# Li & Lim distances are Euclidean in double precision: in thousandths, as whole numbers, the
# rounding moves a 1000-unit plan by well under 0.01 %. Travel times are rounded up, so that a
# plan on time in whole thousandths is on time in double precision too.
SCALE = 1000


@dataclass(frozen=True)
class LiLim:
    """One Li & Lim instance: its coordinates (node 0 the depot) and the problem in thousandths."""

    name: str
    xy: np.ndarray
    problem: Problem


def read_li_lim(path: Path) -> LiLim:
    """Reads ``K Q speed`` then ``id x y demand ready due service pickup delivery`` lines."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    vehicles, capacity = int(lines[0][0]), int(lines[0][1])
    nodes = [[float(v) for v in line] for line in lines[1:]]
    xy = np.array([[node[1], node[2]] for node in nodes])
    exact = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    depot = nodes[0]
    shipments = []
    for node in nodes[1:]:
        if node[3] > 0:  # a pickup names its delivery in the last column
            delivery = nodes[int(node[8])]
            shipments.append(Shipment(
                key=str(int(node[0])), pickup=int(node[0]), delivery=int(delivery[0]), load=(int(node[3]),),
                pickup_window=Window(int(node[4]) * SCALE, int(node[5]) * SCALE),
                delivery_window=Window(int(delivery[4]) * SCALE, int(delivery[5]) * SCALE),
                pickup_service_s=int(node[6]) * SCALE, delivery_service_s=int(delivery[6]) * SCALE,
            ))
    problem = Problem(
        distance_m=np.rint(exact * SCALE).astype(np.int64),
        duration_s=np.ceil(exact * SCALE - 1e-9).astype(np.int64),
        shipments=shipments,
        vehicles=[Vehicle(key=f"v{k + 1}", depot=0, capacity=(capacity,),
                          shift=Window(int(depot[4]) * SCALE, int(depot[5]) * SCALE)) for k in range(vehicles)],
    )
    return LiLim(path.stem, xy, problem)


def exact_distance(instance: LiLim, plan: Plan) -> float:
    """The plan's distance in the instance's own units, in double precision from its routes."""
    total = 0.0
    for route in plan.routes:
        places = [0, *(stop.place for stop in route.stops), 0]
        legs = instance.xy[places[1:]] - instance.xy[places[:-1]]
        total += float(np.sqrt((legs ** 2).sum(axis=1)).sum())
    return total


def read_bks(folder: Path) -> dict[str, tuple[int, float]]:
    """``bks.csv``: instance -> (vehicles, distance); from the ``NAME.bks.txt`` routes where it is missing."""
    known: dict[str, tuple[int, float]] = {}
    table = folder / "bks.csv"
    if table.exists():
        with table.open() as rows:
            for row in csv.DictReader(rows):
                known[row["instance"]] = (int(row["bks_vehicles"]), float(row["bks_distance"]))
    for path in sorted(folder.glob("*.bks.txt")):
        name = path.name.removesuffix(".bks.txt")
        instance = folder / f"{name}.txt"
        if name in known or not instance.exists():
            continue
        xy = read_li_lim(instance).xy
        routes = [[int(n) for n in line.split(":", 1)[1].split()]
                  for line in path.read_text().splitlines() if re.match(r"\s*Route \d+\s*:", line)]
        distance = sum(float(np.sqrt((np.diff(xy[[0, *r, 0]], axis=0) ** 2).sum(axis=1)).sum()) for r in routes)
        known[name] = (len(routes), distance)
    return known


# Furniture the municipalities pass on: (name, litres, kilograms) for one piece.
FURNITURE = [
    ("stackable chair", 60, 7), ("office chair", 250, 15), ("desk", 450, 40), ("height-adjustable desk", 500, 55),
    ("bookcase", 350, 35), ("storage cabinet", 600, 60), ("conference table", 900, 70), ("sofa", 1500, 60),
    ("whiteboard", 150, 20), ("school desk", 200, 14), ("bed frame", 800, 45), ("armchair", 700, 25),
]
DEPOTS = ("Kommunförrådet Ystad", "Kommunförrådet och återbruksförrådet", "Återbruksförrådet Hedvägen")
DAYS = ((40, 2), (80, 3), (120, 4))  # requests, vans  # requests, vans


def realistic_day(requests: int, vans: int, seed: int) -> Problem:
    """A day of the three municipalities: furniture moved between the demo's sites, by vans from their stores.

    Most moves stay within a municipality, a third of them cross to another; a store (the
    re-use depot each van starts from) is often one end of a move.
    """
    rng = random.Random(seed)
    municipalities = demo_data()["municipalities"]
    sites = [site for municipality in municipalities for site in municipality["sites"]]
    matrices = StraightLine().between([(site["latitude"], site["longitude"]) for site in sites])
    places: list[list[int]] = []
    for municipality in municipalities:
        first = len([p for own in places for p in own])
        places.append(list(range(first, first + len(municipality["sites"]))))
    depots = [next(i for i, site in enumerate(sites) if site["name"] == name) for name in DEPOTS]
    hour = 3600
    vehicles = [Vehicle(key=f"van-{k + 1}", depot=depots[k % len(depots)], capacity=(12_000, 1_000),
                        shift=Window(7 * hour, 16 * hour)) for k in range(vans)]

    def window() -> Window:
        # Opening hours for goods: most of the day, some sites only mornings, afternoons or midday.
        return rng.choices([Window(8 * hour, 16 * hour), Window(8 * hour, 12 * hour),
                            Window(12 * hour, 16 * hour), Window(10 * hour, 14 * hour)], weights=[6, 2, 1, 1])[0]

    def site_in(municipality: int, other_than: int = -1) -> int:
        if rng.random() < 0.3 and depots[municipality] != other_than:
            return depots[municipality]
        return rng.choice([p for p in places[municipality] if p != other_than])

    shipments = []
    for n in range(requests):
        origin = rng.randrange(len(municipalities))
        destination = origin if rng.random() < 0.67 else rng.choice([m for m in range(len(places)) if m != origin])
        pickup = site_in(origin)
        delivery = site_in(destination, other_than=pickup)
        _, litres, kilograms = rng.choice(FURNITURE)
        pieces = rng.choice([1, 1, 2, 2, 3, 4]) if litres >= 300 else rng.choice([2, 4, 6, 8, 12])
        service = 5 * 60 + 60 * pieces  # parking, then about a minute to carry each piece
        shipments.append(Shipment(
            key=f"job-{n + 1}", pickup=pickup, delivery=delivery, load=(litres * pieces, kilograms * pieces),
            pickup_window=window(), delivery_window=window(), pickup_service_s=service, delivery_service_s=service,
        ))
    return Problem(distance_m=matrices.distance_m, duration_s=matrices.duration_s, shipments=shipments,
                   vehicles=vehicles)


def limits_argument(text: str) -> list[float]:
    """``"10 60"`` or ``"10,60"``: seconds per instance."""
    limits = [float(part) for part in re.split(r"[\s,]+", text.strip()) if part]
    if not limits or any(limit <= 0 for limit in limits):
        raise argparse.ArgumentTypeError("give one or more positive numbers of seconds")
    return limits


def label(limit: float) -> str:
    """10.0 -> '10', 2.5 -> '2.5': the limit as the JSON keys name it."""
    return f"{limit:g}"


def report(broken: list[Violation]) -> int:
    """Says loudly what an infeasible plan breaks; 1 if it is infeasible, else 0."""
    if not broken:
        return 0
    print(f"  INFEASIBLE PLAN ({len(broken)} violations):", file=sys.stderr)
    for violation in broken[:10]:
        print(f"    {violation.code}: {violation.message}", file=sys.stderr)
    return 1


def main() -> None:
    """Plans every instance at every limit, then the realistic days, and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=Path, default=ROOT.parent / "shared" / "bench" / "pdptw")
    parser.add_argument("--limits", type=limits_argument, default=[10.0, 60.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--day-seconds", type=float, default=APP_SECONDS,
                        help="the planning time of a realistic day (default: the app's)")
    args = parser.parse_args()

    paths = sorted(p for p in args.instances.glob("*.txt") if not p.name.endswith(".bks.txt"))
    if not paths:
        parser.error(f"no Li & Lim instances (NAME.txt) in {args.instances}")
    bks = read_bks(args.instances)
    results: list[dict[str, object]] = []
    gaps: dict[float, list[float]] = {limit: [] for limit in args.limits}
    infeasible = incomplete = 0
    print(f"{'instance':<14}{'limit s':>8}{'vehicles':>10}{'distance':>12}{'BKS':>16}{'gap %':>8}"
          f"{'seconds':>9}{'unserved':>9}")
    for path in paths:
        instance = read_li_lim(path)
        for limit in args.limits:
            started = time.perf_counter()
            plan = solve(instance.problem, seconds=limit, seed=args.seed)
            seconds = time.perf_counter() - started
            broken = violations(instance.problem, plan)
            distance = exact_distance(instance, plan)
            known = bks.get(instance.name)
            gap = None
            if known is not None and not plan.unserved:
                gap = max(0.0, (distance - known[1]) / known[1] * 100)
                gaps[limit].append(gap)
            print(f"{instance.name:<14}{label(limit):>8}{len(plan.routes):>10}{distance:>12.2f}"
                  f"{(f'{known[0]} / {known[1]:.2f}' if known else '-'):>16}"
                  f"{(f'{gap:.2f}' if gap is not None else '-'):>8}{seconds:>9.2f}{len(plan.unserved):>9}")
            if plan.unserved:
                incomplete += 1
                print(f"  NOT ALL SERVED: {len(plan.unserved)} shipments left out; no gap counted", file=sys.stderr)
            infeasible += report(broken)
            results.append({"instance": instance.name, "limit_s": limit, "vehicles": len(plan.routes),
                            "distance": round(distance, 2), "gap_pct": None if gap is None else round(gap, 3),
                            "seconds": round(seconds, 2), "unserved": len(plan.unserved),
                            "violations": len(broken)})

    print(f"\nRealistic days (the demo's sites, StraightLine matrix), {label(args.day_seconds)} s each:")
    print(f"{'day':<14}{'vans':>8}{'served':>10}{'unserved':>10}{'km':>10}{'seconds':>9}")
    day_seconds: list[float] = []
    for number, (requests, vans) in enumerate(DAYS):
        problem = realistic_day(requests, vans, seed=args.seed + number)
        started = time.perf_counter()
        plan = solve(problem, seconds=args.day_seconds, seed=args.seed)
        seconds = time.perf_counter() - started
        day_seconds.append(seconds)
        broken = violations(problem, plan)
        name = f"day-{requests}x{vans}"
        served = len(problem.shipments) - len(plan.unserved)
        print(f"{name:<14}{vans:>8}{served:>10}{len(plan.unserved):>10}{plan.distance_m / 1000:>10.1f}"
              f"{seconds:>9.2f}")
        infeasible += report(broken)
        results.append({"instance": name, "limit_s": args.day_seconds, "vehicles": len(plan.routes),
                        "distance": round(plan.distance_m / 1000, 1), "seconds": round(seconds, 2),
                        "unserved": len(plan.unserved), "violations": len(broken)})

    points = np.random.default_rng(args.seed).uniform((55.3, 13.1), (55.6, 14.2), size=(200, 2))
    started = time.perf_counter()
    StraightLine().between([(float(latitude), float(longitude)) for latitude, longitude in points])
    straight_line_ms = (time.perf_counter() - started) * 1000
    print(f"\nStraightLine matrix of 200 x 200 places: {straight_line_ms:.1f} ms")

    summary: dict[str, object] = {"instances": len(paths)}
    for limit in args.limits:
        values = gaps[limit]
        summary[f"mean_gap_pct_{label(limit)}s"] = round(sum(values) / len(values), 3) if values else None
    summary["max_realistic_day_s"] = round(max(day_seconds), 2)
    summary["infeasible"] = infeasible
    summary["not_all_served"] = incomplete
    summary["straight_line_200_ms"] = round(straight_line_ms, 1)
    summary["results"] = results
    if infeasible:
        print(f"\n{infeasible} INFEASIBLE PLAN(S): see above.", file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
