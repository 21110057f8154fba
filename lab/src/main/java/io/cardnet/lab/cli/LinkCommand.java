package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.LabConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "link", mixinStandardHelpOptions = true,
        description = "Look at and steer the running bus: the PCIe model, rings, interrupt coalescing, faults, capture. Changes take effect at once, without restarting anything.",
        subcommands = {LinkCommand.Show.class, LinkCommand.Set.class, LinkCommand.Fault.class, CaptureCommand.class})
final class LinkCommand {

    /** Which simulator: a lab's by name, or any by its control socket. */
    static final class Target {
        @Option(names = "--name", defaultValue = LabConfig.DEFAULT_NAME, description = "The lab (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--control", description = "A simulator's control socket, instead of a lab's.")
        Path control;

        @Option(names = "--json", description = "Print the answer as JSON.")
        boolean json;

        @Option(names = "--card", paramLabel = "K", defaultValue = "0",
                description = "Which card's link, in a lab of several cards (`lab up --cards N`): 0..N-1 (default: ${DEFAULT-VALUE}).")
        int card;

        @Option(names = "--runtime", defaultValue = "netns", paramLabel = "netns|compose",
                description = "compose: the compose project named by --project (its simulator's control sockets in its bus"
                        + " volume); otherwise the embedded lab named by --name (default: ${DEFAULT-VALUE}).")
        String runtime;

        @Option(names = "--project", defaultValue = "cardnet",
                description = "With --runtime compose: the compose project (default: ${DEFAULT-VALUE}).")
        String project;

        Path socket() throws java.io.IOException {
            if (ComposeLabs.isCompose(runtime)) {
                if (control != null) {
                    throw new IllegalArgumentException("--runtime compose finds the project's control socket itself;"
                            + " leave out --control");
                }
                return ComposeLabs.controlSocket(project, card);
            }
            if (control != null) {
                if (card != 0) {
                    throw new IllegalArgumentException("--card picks a card of the lab named by --name; --control names"
                            + " a simulator's socket itself: give one of them");
                }
                return control;
            }
            if (card == 0) {
                return LabConfig.RUN_ROOT.resolve(name).resolve("control.sock");
            }
            // the lab's own record says how many cards it has, and the error names them if K is not one
            return io.cardnet.lab.runtime.Lab.attach(name, LabConfig.RUN_ROOT, s -> { }).card(card).controlSocket();
        }

        JsonNode send(Map<String, Object> request) throws java.io.IOException {
            return ControlClient.request(socket(), request);
        }

        int print(JsonNode answer) {
            if (json) {
                Output.json(System.out, answer);
            } else {
                System.out.print(LinkText.describe(answer));
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show the link model, rings, coalescing, active faults and counters.")
    static final class Show implements Callable<Integer> {
        @Mixin
        Target target;

        @Override
        public Integer call() throws Exception {
            return target.print(target.send(Map.of("op", "show")));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Change the link model, ring depth or interrupt coalescing of the running bus.",
            footer = {"", "Examples:",
                    "  cardnet link set --model gen3x4                            # pace like a Gen3 x4 link, MPS 256",
                    "  cardnet link set --model gen2x1 --mps 128 --latency 2us",
                    "  cardnet link set --coalesce-frames 64 --coalesce-usecs 50   # both directions",
                    "  cardnet link set --direction c2h --adaptive on",
                    "  cardnet link set --model unlimited",
                    "  cardnet link set --card 1 --model gen2x1                   # card 1 of a `lab up --cards 2` lab",
                    "  cardnet link set --runtime compose --card 1 --model gen2x1 # card 1 of the compose lab"})
    static final class Set implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--model", description = "unlimited, or genGxL with G 1..5 and L 1, 2, 4, 8, 16 (e.g. gen3x4).")
        String model;

        @Option(names = "--mps", description = "Max payload size in bytes: 128, 256, 512, 1024, 2048, 4096.")
        Integer mps;

        @Option(names = "--latency", converter = Converters.DurationConverter.class,
                description = "One-way latency added to every descriptor, e.g. 1us, 500ns.")
        Duration latency;

        @Option(names = "--ring-depth", description = "Descriptors per ring, 1..4096 (the producer's credits); retrains the link.")
        Integer ringDepth;

        @Option(names = "--poll", converter = Converters.DurationConverter.class,
                description = "The engine's doorbell poll interval (recovers lost doorbells), 10us..1s.")
        Duration poll;

        @Option(names = "--direction", defaultValue = "both", description = "h2c, c2h or both, for coalescing (default: ${DEFAULT-VALUE}).")
        String direction;

        @Option(names = "--coalesce-frames", description = "Interrupt after this many descriptors (1 = every descriptor).")
        Integer frames;

        @Option(names = "--coalesce-usecs", description = "...or this many microseconds after the first waiting one.")
        Integer usecs;

        @Option(names = "--adaptive", description = "on or off: scale the frame threshold with the traffic rate.")
        String adaptive;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("op", "set");
            r.put("direction", direction);
            if (model != null) {
                r.put("model", model);
            }
            if (mps != null) {
                r.put("mps", mps);
            }
            if (latency != null) {
                r.put("latencyNanos", latency.toNanos());
            }
            if (ringDepth != null) {
                r.put("ringDepth", ringDepth);
            }
            if (poll != null) {
                r.put("pollMicros", poll.toNanos() / 1000);
            }
            if (frames != null) {
                r.put("coalesceFrames", frames);
            }
            if (usecs != null) {
                r.put("coalesceMicros", usecs);
            }
            if (adaptive != null) {
                r.put("adaptive", Converters.onOff(adaptive, "--adaptive"));
            }
            if (r.size() == 2) {
                throw new IllegalArgumentException("nothing to set; see `cardnet link set --help`");
            }
            return target.print(target.send(r));
        }
    }

    @Command(name = "fault", mixinStandardHelpOptions = true,
            description = "Inject a fault into the running bus, or clear the probabilistic ones. With a probability: drop, bitflip (caught by the link CRC and replayed), poison (corrupted after the CRC: delivered), reorder, lost-doorbell. One-shot, with a duration: stall, flap, surprise-removal.",
            footer = {"", "Examples:",
                    "  cardnet link fault drop --probability 0.01",
                    "  cardnet link fault bitflip --probability 0.001 --direction h2c",
                    "  cardnet link fault flap --duration 2s",
                    "  cardnet link fault surprise-removal --duration 5s",
                    "  cardnet link fault clear"})
    static final class Fault implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(paramLabel = "KIND", description = "drop, bitflip, poison, reorder, lost-doorbell, stall, flap, surprise-removal, or clear.")
        String kind;

        @Option(names = "--probability", description = "For drop, bitflip, poison, reorder, lost-doorbell: 0..1 (0 turns it off).")
        Double probability;

        @Option(names = "--duration", converter = Converters.DurationConverter.class,
                description = "For stall, flap, surprise-removal: how long, e.g. 2s, 500ms.")
        Duration duration;

        @Option(names = "--direction", defaultValue = "both", description = "h2c, c2h or both (default: ${DEFAULT-VALUE}).")
        String direction;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("op", "fault");
            r.put("kind", kind);
            r.put("direction", direction);
            if (probability != null) {
                r.put("probability", probability);
            }
            if (duration != null) {
                r.put("millis", duration.toMillis());
            }
            return target.print(target.send(r));
        }
    }
}
