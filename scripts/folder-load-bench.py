"""Time and peak memory of loading a folder of images into memory: with
torchvision (datasets.ImageFolder + PIL, through a DataLoader with 0 and with
2 worker processes), and with any other command (--command, e.g. our CLI
`npx googlenet-native info --data DIR` or a node one-liner). Needs torch,
torchvision and Pillow for the torchvision part; --command alone needs only
Python. Not part of CI.

Each measurement runs in a child process of its own, started by this
script, and is repeated --runs times (default 3); medians are reported.
  - wall_s: wall time from starting the child to reaping it (interpreter or
    node start-up and imports included).
  - cpu_s: user + system CPU seconds of the child and the descendants it
    reaped (os.wait4's rusage).
  - peak_rss_mb: the high-water mark of resident memory, ru_maxrss from
    os.wait4 on the child: the child's own peak or that of a descendant it
    reaped, whichever is larger (the kernel's high-water mark is per
    process, never a sum, so with DataLoader workers it is the largest
    single process). Linux carries the forking process's own high-water
    mark into the child's ru_maxrss at exec, so this script keeps its
    footprint small (it never imports torch itself) and reports that floor
    as floor_rss_mb (ru_maxrss of /bin/true started the same way): a
    peak_rss_mb at the floor means the command itself stayed below it.
  - tree_peak_rss_mb, tree_peak_pss_mb: the largest sum, over the child and
    all its live descendants, of Rss and of Pss (proportional: shared pages
    split between the processes that map them) from /proc/PID/smaps_rollup,
    sampled every --sample-interval seconds (default 0.05; 0 turns sampling
    off). Sampled, so a peak shorter than the interval can be missed; the
    sampling itself uses a little of the machine's CPU.
  - load_s (torchvision only): the time the child spent iterating the
    dataset and stacking it, as it measured itself (no imports).
The files are read from the page cache when they were read or written
recently (this script does not drop caches); say which when you report.

The torchvision part first measures a child that only imports torch,
torchvision and PIL (the baseline its loads add to), then, for each --mode
and --workers, a child that loads the folder: ImageFolder(DIR) with
loader=PIL open + convert (--mode keep: the file's own mode, so greyscale
PNGs give 1×H×W; --mode RGB: what torchvision's default loader does, 3×H×W)
and transform=PILToTensor() (uint8), iterated once through
DataLoader(batch_size=256, num_workers=W, shuffle=False), the batches
concatenated into one uint8 tensor N×C×H×W and the labels into one int64
tensor, both kept until the child exits.

Run from the repository root:
  python3 scripts/folder-load-bench.py DIR [--workers 0 2] [--mode keep] [--runs 3]
  python3 scripts/folder-load-bench.py --command 'npx googlenet-native info --data DIR' [--command '…'] [--runs 3]
  (both at once: DIR and --command; --no-torchvision skips the torchvision part)
A command runs with /bin/sh -c in --cwd (default: the current folder), its
output discarded except the last 400 characters of the first run's stdout
and stderr, which are reported. A command that exits non-zero is reported
with its exit code and makes this script exit 1.

Prints one JSON object: the folder, the CPU (/proc/cpuinfo model name,
family, model, avx512f), versions, 1-minute load averages before and after,
and per configuration its runs and medians.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from machine_info import cpu_model, loadavg  # noqa: E402


def tree(pid):
    """pid and all its live descendants (via /proc/PID/task/TID/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f'/proc/{p}/task'):
                with open(f'/proc/{p}/task/{tid}/children') as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def rss_pss_kb(pid):
    rss = pss = 0
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Rss:'):
                    rss = int(line.split()[1])
                elif line.startswith('Pss:'):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


class Sampler(threading.Thread):
    """Polls the process tree's summed Rss and Pss until stopped."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss = pss = 0
            for p in tree(self.pid):
                r, s = rss_pss_kb(p)
                rss += r
                pss += s
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stop.wait(self.interval)


def measure(argv, cwd, interval):
    """Runs argv as a child; its wall time, CPU, peak RSS, sampled tree peaks, exit code, output."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = None
    if interval > 0:
        sampler = Sampler(child.pid, interval)
        sampler.start()
    output = []
    reader = threading.Thread(target=lambda: output.append(child.stdout.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if sampler:
        sampler.stop.set()
        sampler.join()
    r = {'wall_s': round(wall, 3), 'cpu_s': round(usage.ru_utime + usage.ru_stime, 3),
         'peak_rss_mb': round(usage.ru_maxrss / 1024, 1), 'exit': child.returncode}
    if sampler:
        r['tree_peak_rss_mb'] = round(sampler.peak_rss / 1024, 1)
        r['tree_peak_pss_mb'] = round(sampler.peak_pss / 1024, 1)
    return r, (output[0] if output else b'').decode('utf-8', 'replace')


def medians(runs):
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float)) and k != 'exit']
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys}


def child_main(folder, workers, mode):
    """--child: load the folder with torchvision, print what was loaded as JSON."""
    t0 = time.perf_counter()
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    def load(path):
        with open(path, 'rb') as f:
            img = Image.open(f)
            if mode == 'keep':
                img.load()
                return img
            return img.convert(mode)

    imports_s = time.perf_counter() - t0
    if workers < 0:  # the imports alone: the baseline the loads add to
        import PIL
        import torchvision
        print(json.dumps({'torch': torch.__version__, 'torchvision': torchvision.__version__,
                          'pillow': PIL.__version__, 'imports_s': round(imports_s, 3)}), flush=True)
        return
    t0 = time.perf_counter()
    ds = datasets.ImageFolder(folder, loader=load, transform=transforms.PILToTensor())
    xs, ys = [], []
    for x, y in DataLoader(ds, batch_size=256, num_workers=workers, shuffle=False):
        xs.append(x)
        ys.append(y)
    images, labels = torch.cat(xs), torch.cat(ys)
    del xs, ys
    load_s = time.perf_counter() - t0
    import PIL
    import torchvision
    print(json.dumps({'torch': torch.__version__, 'torchvision': torchvision.__version__, 'pillow': PIL.__version__,
                      'images': images.shape[0], 'shape': list(images.shape[1:]), 'dtype': str(images.dtype),
                      'bytes': images.numel(), 'classes': len(ds.classes), 'label_sum': int(labels.sum()),
                      'imports_s': round(imports_s, 3), 'load_s': round(load_s, 3)}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('folder', nargs='?', help='an ImageFolder root (<class>/<images>)')
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2], help='DataLoader workers to try (default 0 2)')
    ap.add_argument('--mode', nargs='+', default=['keep'], choices=['keep', 'RGB', 'L'],
                    help="PIL mode of the decoded images (default keep: the file's own)")
    ap.add_argument('--command', action='append', default=[], help='another command to measure (repeatable)')
    ap.add_argument('--cwd', default=None, help='folder to run --command in')
    ap.add_argument('--no-torchvision', action='store_true', help='measure only the --command ones')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--sample-interval', type=float, default=0.05)
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child_main(a.folder, a.workers[0], a.mode[0])
    if not a.command and (a.no_torchvision or not a.folder):
        ap.error('give a folder, a --command, or both')

    configs = []
    if a.folder and not a.no_torchvision:
        if not os.path.isdir(a.folder):
            ap.error(f'{a.folder} is not a folder')
        configs.append(('torchvision imports only (python, torch, torchvision, PIL: the baseline)',
                        [sys.executable, os.path.abspath(__file__), '--child', a.folder, '--workers', '-1'], True))
        for mode in a.mode:
            for w in a.workers:
                configs.append((f'torchvision ImageFolder+PIL, DataLoader workers={w}, mode={mode}',
                                [sys.executable, os.path.abspath(__file__), '--child', a.folder,
                                 '--workers', str(w), '--mode', mode], True))
    for cmd in a.command:
        configs.append((cmd, ['/bin/sh', '-c', cmd], False))

    report = {'folder': os.path.abspath(a.folder) if a.folder else None, 'cpu': cpu_model(),
              'python': platform.python_version(), 'runs': a.runs, 'loadavg_before': loadavg(), 'configs': []}
    # The floor of peak_rss_mb: what this script's own footprint adds (see the top).
    floor, _ = measure(['/bin/true'], None, 0)
    report['floor_rss_mb'] = floor['peak_rss_mb']
    failed = False
    for name, argv, is_torchvision in configs:
        runs, tail = [], None
        for i in range(a.runs):
            r, out = measure(argv, a.cwd if not is_torchvision else None, a.sample_interval)
            r['loadavg'] = loadavg()
            if is_torchvision and r['exit'] == 0:
                r.update(json.loads(out.strip().splitlines()[-1]))
                for k in ('torch', 'torchvision', 'pillow'):
                    report[k] = r.pop(k)
            elif i == 0 or r['exit'] != 0:
                tail = out[-400:]
            if r['exit'] != 0:
                failed = True
                tail = out[-400:]
            runs.append(r)
            print(json.dumps({'config': name, 'run': i + 1, **r}), file=sys.stderr, flush=True)
        entry = {'name': name, 'runs': runs, 'median': medians(runs)}
        if tail is not None:
            entry['output_tail'] = tail
        report['configs'].append(entry)
    report['loadavg_after'] = loadavg()
    print(json.dumps(report, indent=1))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
