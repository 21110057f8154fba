package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One card's conntrackd (FTFW mode) in its namespace: it sends the card's connection tracking and NAT bindings to the
 * other card over the sync link and keeps what the other sends in its external cache, which a takeover commits into
 * the kernel ({@code -c}). Its configuration, lock file, control socket and log live in RUN_DIR/pair/, one set per
 * card, so two daemons (and two labs) never meet; it runs in the foreground, started and stopped by pid.
 */
final class Conntrackd {
    private final Path dir;
    private final int card;
    private final String namespace;

    Conntrackd(Path runDir, int card, String namespace) {
        this.dir = runDir.resolve("pair");
        this.card = card;
        this.namespace = namespace;
    }

    static String processKey(int k) {
        return "conntrackd." + k;
    }

    Path config() {
        return dir.resolve("conntrackd" + card + ".conf");
    }

    Path lock() {
        return dir.resolve("conntrackd" + card + ".lock");
    }

    Path socket() {
        return dir.resolve("conntrackd" + card + ".sock");
    }

    Path log() {
        return dir.resolve("conntrackd" + card + ".log");
    }

    /**
     * Writes the configuration: FTFW over UDP on the sync link; TCP and UDP only; the cards' own addresses ignored
     * (a connection the card itself terminates is soft state that no other card can take over).
     */
    void writeConfig(List<String> ownAddresses) throws IOException {
        Files.createDirectories(dir);
        StringBuilder ignore = new StringBuilder();
        for (String a : ownAddresses) {
            ignore.append("\t\t\tIPv4_address ").append(a).append('\n');
        }
        String conf = """
                # conntrackd of card %d of a cardnet failover pair (written by `cardnet lab up --pair`)
                Sync {
                \tMode FTFW {
                \t\tDisableExternalCache Off
                \t\tCommitTimeout 1800
                \t\tPurgeTimeout 5
                \t}
                \tUDP {
                \t\tIPv4_address %s
                \t\tIPv4_Destination_Address %s
                \t\tPort %d
                \t\tInterface %s
                \t\tSndSocketBuffer 1249280
                \t\tRcvSocketBuffer 1249280
                \t\tChecksum on
                \t}
                }
                General {
                \tNice -10
                \tHashSize 8192
                \tHashLimit 65536
                \tLogFile %s
                \tSyslog off
                \tLockFile %s
                \tUNIX {
                \t\tPath %s
                \t}
                \tNetlinkBufferSize 2097152
                \tNetlinkBufferSizeMaxGrowth 8388608
                \tFilter From Userspace {
                \t\tProtocol Accept {
                \t\t\tTCP
                \t\t\tUDP
                \t\t}
                \t\tAddress Ignore {
                \t\t\tIPv4_address 127.0.0.1
                %s\t\t}
                \t}
                }
                """.formatted(card, PairPlan.syncAddress(card), PairPlan.syncAddress(PairPlan.other(card)),
                PairPlan.SYNC_PORT, PairPlan.SYNC_DEVICE, log(), lock(), socket(), ignore);
        Files.writeString(config(), conf);
    }

    /** The daemon in the foreground, in the card's namespace ({@code ip netns exec} execs: the pid is conntrackd's). */
    List<String> command() {
        return Shell.inNamespace(namespace, List.of("conntrackd", "-C", config().toString()));
    }

    /** A daemon killed with -9 leaves its lock file, and the next one would refuse to start: a stale one goes. */
    void clearStaleLock() throws IOException {
        Files.deleteIfExists(lock());
    }

    /** Sends one request to the running daemon ({@code -c}, {@code -f}, {@code -R}, {@code -B}, {@code -n}, ...). */
    Shell.Result request(String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("conntrackd", "-C", config().toString()));
        cmd.addAll(List.of(flags));
        return Shell.run(Shell.inNamespace(namespace, cmd), 30);
    }

    /** As {@link #request}, failing with conntrackd's words if it refuses. */
    void require(String what, String... flags) throws IOException {
        Shell.Result r = request(flags);
        if (!r.ok()) {
            throw new LabException("conntrackd of card " + card + " could not " + what + " (`conntrackd "
                    + String.join(" ", flags) + "` exit " + r.exitCode() + "): " + r.output().strip() + "; see " + log());
        }
    }

    /** True once the daemon answers on its socket. */
    boolean answers() throws IOException {
        return Files.exists(socket()) && request("-s").ok();
    }
}
