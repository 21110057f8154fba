package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a running lab is made of, kept in RUN_DIR/lab.json so that {@code lab down}, {@code lab status} and
 * {@code lab restart} from another shell find the same processes (by pid) and namespaces. {@code cards} is how many
 * cards it has (0 in a file from before several cards: one), {@code upstream} the switch's upstream model they share
 * (null: none); card K's processes are keyed "card-node.K", "host-bridge.K".
 */
public record LabState(String name, boolean isolated, String csum, String runDir, List<String> namespaces,
                       String hostNamespace, String cardNamespace, String wireNamespace,
                       Map<String, Proc> processes, Map<String, String> addresses, Map<String, String> metrics,
                       String startedAt, FirmwareSlots firmware, String runtime, VmState vm, AotCache.Status aot,
                       WarmUp.Result warmUp, int cards, String upstream) {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One process of the lab. {@code started} (the kernel's start time of that pid) tells it apart from an
     * unrelated process that later got the same pid.
     */
    public record Proc(long pid, String started, String namespace, String log, List<String> command) {
        static Proc of(Process p, String namespace, String log, List<String> command) {
            String started = p.toHandle().info().startInstant().map(Object::toString).orElse("");
            return new Proc(p.pid(), started, namespace, log, command);
        }
    }

    public static Path file(Path runDir) {
        return runDir.resolve("lab.json");
    }

    public LabState withProcess(Component c, Proc p) {
        return withProcess(c.command(), p);
    }

    /** With {@code p} recorded under {@code key}, or without any process under it if {@code p} is null. */
    public LabState withProcess(String key, Proc p) {
        Map<String, Proc> next = new TreeMap<>(processes);
        if (p == null) {
            next.remove(key);
        } else {
            next.put(key, p);
        }
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                next, addresses, metrics, startedAt, firmware, runtime, vm, aot, warmUp, cards, upstream);
    }

    public LabState withFirmware(FirmwareSlots f) {
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                processes, addresses, metrics, startedAt, f, runtime, vm, aot, warmUp, cards, upstream);
    }

    public LabState withVm(VmState v) {
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                processes, addresses, metrics, startedAt, firmware, runtime, v, aot, warmUp, cards, upstream);
    }

    /** The JVM cache the lab's components were started with (null in a state file from before it existed). */
    public LabState withAot(AotCache.Status a) {
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                processes, addresses, metrics, startedAt, firmware, runtime, vm, a, warmUp, cards, upstream);
    }

    /** What `lab up` did to warm the data path (null: not yet, or a lab made before warm-ups existed). */
    public LabState withWarmUp(WarmUp.Result w) {
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                processes, addresses, metrics, startedAt, firmware, runtime, vm, aot, w, cards, upstream);
    }

    /** The card's runtime; a state file of a lab made before the VM runtime existed is a netns lab. */
    public LabRuntime cardRuntime() {
        return runtime == null ? LabRuntime.NETNS : LabRuntime.parse(runtime);
    }

    /**
     * A VM card: the accelerator chosen and why, its machine, the image each slot boots (a directory of the image
     * cache), the kernel release in each, and how long the last boot took from QEMU's start to a trained link.
     */
    public record VmState(String accel, String accelReason, int cpus, int memoryMiB, Map<String, String> images,
                          Map<String, String> kernels, Map<String, String> cmdlines, long bootMillis) {
        public VmState withSlot(String slot, String image, String kernel, String cmdline) {
            Map<String, String> i = new TreeMap<>(images);
            Map<String, String> k = new TreeMap<>(kernels);
            Map<String, String> c = new TreeMap<>(cmdlines);
            i.put(slot, image);
            k.put(slot, kernel);
            c.put(slot, cmdline);
            return new VmState(accel, accelReason, cpus, memoryMiB, i, k, c, bootMillis);
        }

        public VmState withAccel(String kind, String reason) {
            return new VmState(kind, reason, cpus, memoryMiB, images, kernels, cmdlines, bootMillis);
        }

        public VmState withBootMillis(long millis) {
            return new VmState(accel, accelReason, cpus, memoryMiB, images, kernels, cmdlines, millis);
        }
    }

    /**
     * The card's two firmware slots: the version in each ("a", "b"; null when empty) and which one it boots.
     * A slot's files are a copy under RUN_DIR/firmware/SLOT/VERSION, so editing images/ never changes a card.
     */
    public record FirmwareSlots(String active, String a, String b) {
        public String version(String slot) {
            return slot.equals("a") ? a : b;
        }

        public String activeVersion() {
            return version(active);
        }

        public String standby() {
            return active.equals("a") ? "b" : "a";
        }

        public FirmwareSlots with(String slot, String version) {
            return slot.equals("a") ? new FirmwareSlots(active, version, b) : new FirmwareSlots(active, a, version);
        }

        public FirmwareSlots activate(String slot) {
            return new FirmwareSlots(slot, a, b);
        }
    }

    public void save() throws IOException {
        Path dir = Path.of(runDir);
        Path tmp = dir.resolve("lab.json.tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static LabState load(Path runDir) throws IOException {
        Path f = file(runDir);
        try {
            return JSON.readValue(f.toFile(), LabState.class);
        } catch (IOException e) {
            throw new IOException("the lab's state file " + f + " is unreadable (" + e.getMessage()
                    + "); `cardnet lab down --name NAME --force` removes what the lab's names point to", e);
        }
    }
}
