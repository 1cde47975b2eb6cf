"""`torch.cpu`: the CPU as a device module (what device-generic code calls), and torch.cpu.amp."""


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Nothing to wait for: CPU ops finish before they return."""
