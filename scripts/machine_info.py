"""The machine a measurement ran on, for the scripts that print figures:
the CPU (its model, family and whether it has AVX-512) and the load."""
import os
import platform


def cpu_model():
    """/proc/cpuinfo's model name, family, model and avx512f, and the core count."""
    info = {}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key in ('model name', 'cpu family', 'model') and key not in info:
                    info[key] = value.strip()
                if key == 'flags' and 'avx512f' not in info:
                    info['avx512f'] = 'avx512f' in value.split()
    except OSError:
        info['model name'] = platform.processor()
    info['cores'] = os.cpu_count()
    return info


def loadavg():
    """The 1-minute load average: other work on the machine slows what is timed."""
    try:
        with open('/proc/loadavg') as f:
            return float(f.read().split()[0])
    except OSError:
        return None
