package io.cardnet.lab.cli;

import io.cardnet.lab.runtime.AotCache;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.netdev.NetNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The training run of the lab's JVM caches (run by {@code AotCacheBuilder}, in a JVM that records the CLI's own
 * profile): a throwaway isolated lab whose components record theirs, and the traffic a user sends through one —
 * the warm-up's 64K packets both ways and small request/response, `tool send` to the card's sink and from the card
 * to a `tool sink` on the host, floods of small and 64K pings to the card and the wire peer, `lab status`. A
 * profile only covers the code that ran, so this runs what users run.
 */
@Command(name = "aot-build", hidden = true,
        description = "Train the lab's JVM caches on a throwaway lab's real traffic (run by `lab up` when the jar has none).")
final class AotBuild implements Callable<Integer> {
    @Parameters(paramLabel = "WORK_DIR", description = "Where the components write their recorded profiles.")
    Path work;

    @Override
    public Integer call() throws Exception {
        AotCache.recordInto(work);
        String name = "aot" + Long.toHexString(ProcessHandle.current().pid());
        say("bringing up a throwaway lab '" + name + "' whose JVMs record what they run");
        Lab lab = Lab.up(LabConfig.defaults(name).withIsolated(true), line -> System.out.println("  " + line));
        Thread down = new Thread(lab::down, "aot-build-down");
        Runtime.getRuntime().addShutdownHook(down); // Ctrl-C or the builder's deadline: the lab goes anyway
        try {
            say("64K packets both ways and small request/response through the card's echo");
            lab.warmUp(false);
            String host = lab.hostAddress();
            String card = lab.cardAddress();
            say("`tool send` 512 MiB to the card's sink, and 256 MiB from the card to a `tool sink` on the host");
            cli(lab.hostNamespace(), "tool", "send", "--to", card + ":9", "--size", "512M", "--json");
            Thread sink = Thread.ofPlatform().start(() -> cliQuietly(lab.hostNamespace(), "tool", "sink", "--listen",
                    host + ":5001", "--once", "--json"));
            Thread.sleep(1000);
            cli(lab.names().cardNamespace(), "tool", "send", "--to", host + ":5001", "--size", "256M", "--json");
            sink.join(60_000);
            say("ping floods: small and 64K packets to the card and the wire peer");
            String peer = lab.state().addresses().get("wire.eth0").replaceAll("/.*", "");
            for (List<String> ping : List.of(List.of("ping", "-q", "-f", "-c", "3000", card),
                    List.of("ping", "-q", "-f", "-c", "500", "-s", "65000", card),
                    List.of("ping", "-q", "-f", "-c", "1000", peer))) {
                Shell.run(Shell.inNamespace(lab.hostNamespace(), ping), 60);
            }
            cli(null, "lab", "status", "--name", name, "--json");
            lab.warmUp(false); // the same paths once more, now that every one of them has run
            say("taking the throwaway lab down (each JVM writes its profile as it exits)");
        } finally {
            lab.down();
            Runtime.getRuntime().removeShutdownHook(down);
        }
        say("done");
        return 0;
    }

    private static void say(String line) {
        System.out.println("aot-build: " + line);
        System.out.flush();
    }

    /** A `cardnet` command run in this JVM (so its profile is the CLI's), on a thread in {@code ns}. */
    private static void cli(String ns, String... args) throws Exception {
        int exit = ns == null ? Commands.commandLine().execute(args)
                : NetNamespace.call(ns, () -> Commands.commandLine().execute(args));
        if (exit != 0) {
            throw new IllegalStateException("`cardnet " + String.join(" ", args) + "` exited with " + exit);
        }
    }

    private static void cliQuietly(String ns, String... args) {
        try {
            cli(ns, args);
        } catch (Exception e) {
            System.out.println("  " + e.getMessage());
        }
    }
}
