package io.cardnet.lab.cli;

import io.cardnet.lab.drill.ComposeTarget;
import io.cardnet.lab.runtime.ExecResult;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConsoleKeys;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.Privileges;
import io.cardnet.lab.runtime.Shell;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** `cardnet card exec|console`: the card, whatever it runs on (a namespace, a container, a VM). */
@Command(name = "card", mixinStandardHelpOptions = true,
        description = "Reach the card itself: run a command on it, log in to its SSH console, or read what it printed. The same commands work whatever"
                + " the card is: a network namespace (netns lab), the card container (compose lab) or a virtual machine"
                + " (vm lab, through QEMU's guest agent).",
        subcommands = {CardCommand.Exec.class, CardCommand.Console.class})
final class CardCommand {
    private CardCommand() {
    }

    /** Which card: an embedded lab's (by name) or a compose project's. */
    static final class Which {
        @Mixin
        LabCommand.NameOption lab;

        @Option(names = "--runtime", defaultValue = "netns", paramLabel = "netns|vm|compose",
                description = "netns or vm: the embedded lab named by --lab (its card is whatever it was started as);"
                        + " compose: the `docker compose` lab (--project, --file) (default: ${DEFAULT-VALUE}).")
        String runtime;

        @Option(names = "--project", defaultValue = "cardnet",
                description = "With --runtime compose: the compose project (default: ${DEFAULT-VALUE}, compose.yaml's name).")
        String project;

        @Option(names = {"-f", "--file"}, defaultValue = "compose.yaml",
                description = "With --runtime compose: the compose file (default: ${DEFAULT-VALUE}).")
        Path composeFile;

        boolean compose() {
            return switch (runtime) {
                case "netns", "vm" -> false;
                case "compose" -> true;
                default -> throw new IllegalArgumentException("--runtime takes netns, vm or compose, not '" + runtime + "'");
            };
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true,
            description = "Run a command on the card and pass on its output and exit status. Netns card: in its"
                    + " namespace; compose: `docker exec` in the card container; VM card: inside the guest, through"
                    + " QEMU's guest agent (qemu-ga on a virtio-serial port).",
            footer = {"", "Examples:",
                    "  sudo ./cardnet card exec -- uname -r                  # the card's kernel (a VM card's own)",
                    "  sudo ./cardnet card exec --lab t1 -- lspci            # the bus as the card sees it (VM)",
                    "  sudo ./cardnet card exec -- nft list ruleset          # the firmware's firewall",
                    "  sudo ./cardnet card exec --runtime compose -- ip addr # the compose lab's card",
                    "  sudo ./cardnet card exec --card 1 -- ip addr          # card 1 of a `lab up --cards 2` lab",
                    "  sudo ./cardnet card exec --runtime compose --card 1 -- ip addr   # the compose lab's card1 container",
                    "",
                    "Exit status: the command's, 124 if it did not finish within --timeout, 1 if the card cannot be reached."})
    static final class Exec implements Callable<Integer> {
        @Mixin
        Which card;

        @Option(names = "--timeout", defaultValue = "30s", converter = Converters.DurationConverter.class,
                description = "How long the command may run (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Option(names = "--json", description = "Print {exitCode, stdout, stderr} as JSON instead of passing them on.")
        boolean json;

        @Option(names = "--card", paramLabel = "K", defaultValue = "0",
                description = "Which card, in a lab of several cards (`lab up --cards N`): 0..N-1 (default: ${DEFAULT-VALUE}).")
        int cardIndex;

        @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "The command and its arguments (after --).")
        List<String> command;

        @Override
        public Integer call() throws Exception {
            Privileges.requireNetAdmin("cardnet card exec");
            ExecResult r = card.compose() && cardIndex != 0
                    ? ComposeLabs.execOnCard(card.project, cardIndex, command, timeout)
                    : card.compose()
                    ? ComposeTarget.execOnCard(card.project, card.composeFile, command, timeout)
                    : Lab.attach(card.lab.name, card.lab.runRoot, s -> { }).execOnCard(cardIndex, command, timeout);
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("exitCode", r.exitCode());
                out.put("stdout", r.stdout());
                out.put("stderr", r.stderr());
                Output.json(System.out, out);
            } else {
                System.out.print(r.stdout());
                System.err.print(r.stderr());
            }
            System.out.flush();
            return r.exitCode();
        }
    }

    @Command(name = "console", mixinStandardHelpOptions = true,
            description = "Open a session on the card's SSH console (the firmware's `console` service on the card's bus"
                    + " address, port 22): the stock `ssh` with the lab's own key and known_hosts, run on the host side"
                    + " (inside an isolated lab's host namespace): a netns card's shell runs in its namespace, a VM"
                    + " card's inside the guest, on the card's own kernel. Give a COMMAND to run just that. With --log (or"
                    + " --no-follow), show what the card printed instead: a VM card's serial console, a netns card's"
                    + " card-node log, the compose card container's log. A compose lab's session runs in its host"
                    + " container (`docker exec`), with the key its keys service made per lab.",
            footer = {"", "Examples:",
                    "  sudo ./cardnet card console                        # a shell on the card (namespace or VM)",
                    "  sudo ./cardnet card console --lab t1 -- ip -o addr # one command through the console",
                    "  sudo ./cardnet card console --lab v1 -- uname -r   # a VM card: its own kernel",
                    "  sudo ./cardnet card console --log --no-follow | tail -50",
                    "  ssh -i /run/cardnet/lab/console/id_ed25519 root@198.18.0.2   # the same with plain OpenSSH",
                    "  sudo ./cardnet card console --runtime compose -- uptime   # the compose lab's card",
                    "  docker compose exec host ssh -F /console/ssh_config card   # the same with plain OpenSSH",
                    "",
                    "The key and known_hosts are in the lab's run directory (`cardnet lab status --json`: console);"
                            + " so is a VM card's host key, which the lab makes and hands to every boot of the card."
                            + " Exit status: the session's (ssh's: 255 if it could not connect or log in)."})
    static final class Console implements Callable<Integer> {
        @Mixin
        Which card;

        @Option(names = "--log", description = "Show the card's console output (serial console or log) instead of"
                + " opening an SSH session.")
        boolean log;

        @Option(names = "--no-follow", description = "With --log (implies it): print what is there and exit.")
        boolean noFollow;

        @Parameters(paramLabel = "COMMAND", arity = "0..*",
                description = "Run this on the card through the console instead of a shell (after --).")
        List<String> command = List.of();

        @Override
        public Integer call() throws Exception {
            Privileges.requireNetAdmin("cardnet card console");
            if (card.compose() && !log && !noFollow) {
                return new ProcessBuilder(ComposeTarget.consoleSession(card.project, card.composeFile, command,
                        command.isEmpty() && System.console() != null)).inheritIO().start().waitFor();
            }
            if (card.compose()) {
                List<String> cmd = new java.util.ArrayList<>(List.of("docker", "compose", "-p", card.project, "-f",
                        card.composeFile.toString(), "logs"));
                if (!noFollow) {
                    cmd.add("-f");
                }
                cmd.add("card");
                return new ProcessBuilder(cmd).inheritIO().start().waitFor();
            }
            Lab lab = Lab.attach(card.lab.name, card.lab.runRoot, s -> { });
            if (!log && !noFollow) {
                return ssh(lab, command);
            }
            Path console = lab.cardConsole();
            if (!Files.exists(console)) {
                throw new IOException("the card has printed nothing yet (" + console + " does not exist)");
            }
            follow(console, lab.runDir(), !noFollow);
            return 0;
        }

        /** The stock ssh client on the host side, with the lab's key, checking the card's host key strictly. */
        private static int ssh(Lab lab, List<String> command) throws IOException, InterruptedException {
            LabConsoleKeys keys = lab.consoleKeys();
            if (!Files.exists(keys.privateKey())) {
                throw new LabException("this lab has no console key (" + keys.privateKey() + "): it was started without"
                        + " ssh-keygen; install openssh-client and start it again, or use `cardnet card console --log`");
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!keys.writeKnownHosts(lab.cardAddress())) {
                if (System.nanoTime() > deadline) {
                    throw new LabException("the card's console has not published a host key (" + keys.cardState()
                            + "/host_key.pub): does its firmware run the `console` service? (`cardnet lab status`)");
                }
                Thread.sleep(200);
            }
            List<String> argv = Shell.inNamespace(lab.hostNamespace(), keys.sshCommand(lab.cardAddress(), command));
            return new ProcessBuilder(argv).inheritIO().start().waitFor();
        }

        /** Copies the file to stdout, then what is appended to it, until the lab is gone or the user stops. */
        private static void follow(Path file, Path runDir, boolean follow) throws IOException, InterruptedException {
            byte[] buf = new byte[64 * 1024];
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                while (true) {
                    int n = f.read(buf);
                    if (n > 0) {
                        System.out.write(buf, 0, n);
                        continue;
                    }
                    System.out.flush();
                    if (!follow) {
                        return;
                    }
                    if (!Files.exists(LabState.file(runDir))) {
                        System.err.println("cardnet: the lab was taken down");
                        return;
                    }
                    Thread.sleep(200);
                }
            }
        }
    }
}
