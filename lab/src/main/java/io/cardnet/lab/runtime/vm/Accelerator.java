package io.cardnet.lab.runtime.vm;

import io.cardnet.lab.runtime.LabException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Which accelerator runs the card VM, and why. KVM is used only where it really works: {@code /dev/kvm} must be
 * usable, the CPU must show vmx or svm, and a probe boot of the card's own kernel must reach its initramfs within
 * a deadline. Measured on these machines: {@code /dev/kvm} exists, the CPU shows no vmx/svm (no nested
 * virtualization), and a KVM guest then hangs in its kernel instead of failing, so only a deadline tells.
 * Everywhere else TCG (QEMU's translator) runs it, slower but always.
 *
 * @param reason one sentence for the banner and `lab status`
 */
public record Accelerator(Kind kind, String reason) {
    /** How long a KVM probe boot may take: a working KVM reaches the initramfs in about a second. */
    static final Duration PROBE_DEADLINE = Duration.ofSeconds(20);

    public enum Kind {
        KVM, TCG;

        public String qemuName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the user asked for with {@code --accel}. */
    public enum Request {
        AUTO, KVM, TCG;

        public static Request parse(String text) {
            try {
                return valueOf(text.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--accel takes auto, kvm or tcg, not '" + text + "'");
            }
        }
    }

    /**
     * Decides for {@code request}. {@code image} is the card's first image: its kernel and initramfs are what the
     * KVM probe boots. Explicit {@code kvm} that does not work is an error naming why; {@code auto} falls back.
     */
    public static Accelerator choose(Request request, VmImage image, String qemu) throws IOException {
        if (request == Request.TCG) {
            return new Accelerator(Kind.TCG, "asked for (--accel tcg)");
        }
        String whyNot = kvmUnusable(image, qemu);
        if (whyNot == null) {
            return new Accelerator(Kind.KVM, request == Request.KVM ? "asked for (--accel kvm); the probe boot passed"
                    : "/dev/kvm works: the probe boot of the card's kernel passed");
        }
        if (request == Request.KVM) {
            throw new LabException("--accel kvm: " + whyNot + "; use --accel tcg (or auto) on this machine");
        }
        return new Accelerator(Kind.TCG, whyNot + ", so QEMU's TCG runs the card");
    }

    /** Null if KVM works here, else why not. */
    static String kvmUnusable(VmImage image, String qemu) throws IOException {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm)) {
            return "there is no /dev/kvm";
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return "/dev/kvm is not usable by this user";
        }
        String cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
        if (!cpuinfo.matches("(?s).*\\bflags\\s*:[^\\n]*\\b(vmx|svm)\\b.*")) {
            return "/dev/kvm exists but this CPU shows no vmx/svm flags (no nested virtualization; KVM guests hang here)";
        }
        return probe(image, qemu);
    }

    /** Boots the card's kernel under KVM until its initramfs says so, or the deadline: null if it did. */
    private static String probe(VmImage image, String qemu) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(qemu, "-accel", "kvm", "-cpu", "host", "-m", "256", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio",
                "-kernel", image.vmlinuz().toString(), "-initrd", image.initrd().toString(),
                "-append", "console=ttyS0 panic=-1 cardnet.probe=1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (var in = p.getInputStream()) {
                byte[] b = new byte[4096];
                int n;
                while ((n = in.read(b)) > 0) {
                    synchronized (out) {
                        out.append(new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException ignored) {
                // the probe ended
            }
        });
        try {
            boolean exited = p.waitFor(PROBE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(1_000);
            String seen;
            synchronized (out) {
                seen = out.toString();
            }
            if (seen.contains("cardnet-probe:")) {
                return null;
            }
            return exited ? "a KVM probe boot failed (" + lastLine(seen) + ")"
                    : "a KVM probe boot did not reach the card's initramfs within " + PROBE_DEADLINE.toSeconds() + " s";
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing KVM", e);
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 || lines[lines.length - 1].isBlank() ? "no output" : lines[lines.length - 1].strip();
    }

    /** QEMU's {@code -accel} and {@code -cpu} for this accelerator. */
    public List<String> qemuArgs() {
        return kind == Kind.KVM ? List.of("-accel", "kvm", "-cpu", "host")
                // TCG translates every instruction. One host thread runs all vCPUs: with QEMU 7.2's multi-threaded
                // TCG a vCPU could run a stale or torn translation of JIT code another vCPU had just patched, and the
                // card's JVM died with SIGSEGV at such a patched method entry (2 of ~10 boots); single-threaded, a
                // write to translated code is seen before any vCPU runs again. It costs ~10 s of boot (43 against
                // 32 s) and half the sink's rate. AVX costs more to emulate than it gains (the SHA-256 sink ran at
                // half speed with AVX2), so the card's CPU is "max" without AVX.
                : List.of("-accel", "tcg,thread=single", "-cpu", "max,avx=off,avx2=off,fma=off,f16c=off,vaes=off,xsave=off");
    }
}
