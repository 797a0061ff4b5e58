# chart.py - the chart of tables 1-3 (build/bench/bench.png, with gnuplot).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


def chart(data):
    dat = os.path.join(OUT, "bench.dat")
    order = ["without", "objpool", "limit", "proxy"]
    labels = {"without": "without objpool", "objpool": "with objpool",
              "limit": "persistent / Session / reused client (limit)", "proxy": "proxy (HAProxy / nutcracker)"}
    with open(dat, "w") as f:
        f.write("workload " + " ".join('"%s"' % labels[k] for k in order) + "\n")
        for wl, d in data:
            f.write('"%s" ' % wl + " ".join(("%.4f" % d[k]) if k in d else "-" for k in order) + "\n")
    RESULTS["chart_data"] = {wl: d for wl, d in data}
    if not shutil.which("gnuplot"):
        print("\n(gnuplot not installed: no chart)")
        return
    png = os.path.join(OUT, "bench.png")
    script = """
set terminal pngcairo size 900,480 font ",10" noenhanced
set output '%s'
set title "objpool: throughput as a fraction of the persistent-connection limit (pinned, higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '-'
set yrange [0:1.1]
set xrange [-0.6:2.6]
set grid ytics
set key below horizontal
set ylabel "fraction of the limit"
plot for [i=2:5] '%s' using i:xtic(1) title columnhead(i)
""" % (png, dat)
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        # pngcairo may be missing (gnuplot-nox has it; fall back to png)
        script = script.replace("pngcairo", "png")
        subprocess.run(["gnuplot"], input=script, text=True, check=False)
    if os.path.exists(png):
        print("\nchart: %s" % png)
