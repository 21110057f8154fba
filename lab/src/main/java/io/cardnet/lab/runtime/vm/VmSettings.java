package io.cardnet.lab.runtime.vm;

/**
 * The card VM's machine: accelerator request, vCPUs and memory. Defaults fit the 2-core machines this runs on:
 * two vCPUs (card-node's bus thread and its services), 1 GiB (the JVM takes up to 384 MiB of it).
 */
public record VmSettings(Accelerator.Request accel, int cpus, int memoryMiB) {
    public static final VmSettings DEFAULT = new VmSettings(Accelerator.Request.AUTO, 2, 1024);

    public VmSettings {
        java.util.Objects.requireNonNull(accel, "accel");
        if (cpus < 1 || cpus > 16) {
            throw new IllegalArgumentException("--vm-cpus must be 1..16, was " + cpus);
        }
        if (memoryMiB < 512 || memoryMiB > 16384) {
            throw new IllegalArgumentException("--vm-memory must be 512..16384 MiB, was " + memoryMiB);
        }
    }
}
