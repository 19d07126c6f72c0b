import sqlite3
import sys

import pandas as pd

# pandas-example.py [vaelab.db] [curves.csv] [EXPERIMENT] [elbo.png]
defaults = ["vaelab.db", "curves.csv", "quickstart", "elbo.png"]
db, curves_csv, experiment, png = sys.argv[1:] + defaults[len(sys.argv) - 1 :]

# Read-only: the workspace is never written (vaelab may be training into it).
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
runs = pd.read_sql_query(
    """SELECT r.id AS run_id, r.seed, r.status FROM runs r
       JOIN experiment_runs er ON er.run_id = r.id
       WHERE er.experiment = ? ORDER BY er.position""",
    con, params=(experiment,))
# One row per run and parameter: value_num holds numbers, value_text the rest.
params = pd.read_sql_query("SELECT run_id, key, value_num FROM params", con)
params = params.pivot(index="run_id", columns="key", values="value_num")
# Final values: the training's (eval_hash '') and those of the evaluation
# the experiment's spec asks for; <key>_se is a metric's image-sampling SE.
sums = pd.read_sql_query(
    """SELECT s.run_id, s.key, s.value FROM summaries s
       JOIN experiment_runs er ON er.run_id = s.run_id AND er.experiment = ?
       WHERE s.eval_hash IN ('', er.eval_hash)""",
    con, params=(experiment,))
sums = sums.pivot(index="run_id", columns="key", values="value")
df = runs.join(params[["objective.beta"]], on="run_id").join(sums, on="run_id")
fd = "samples/fd_randconv1"
print(df[["run_id", "objective.beta", "seed", "test/elbo", fd, fd + "_se"]].to_string(index=False))
print(df.groupby("objective.beta")[["test/elbo", fd]].agg(["mean", "std"]))

# The curves, from: vaelab export quickstart --curves --format csv -o curves.csv
curves = pd.read_csv(curves_csv)
elbo = curves[curves.key == "train/elbo"].pivot_table(
    index="step", columns="label", values="value", aggfunc="mean")  # mean over seeds
if elbo.empty:
    sys.exit(f"{curves_csv}: no train/elbo points")
print(elbo.iloc[:: max(1, len(elbo) // 8)].round(1))

try:
    import matplotlib
    matplotlib.use("Agg")
except ImportError:
    print("matplotlib is not installed: no plot")
else:
    ax = elbo.rolling(25, min_periods=1).mean().plot(figsize=(7, 4))
    ax.set(xlabel="step", ylabel="training ELBO, nats per image", title="mean over seeds")
    ax.figure.savefig(png, dpi=100, bbox_inches="tight")
    print("wrote", png)
