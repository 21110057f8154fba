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
 * {@code lab restart} from another shell find the same processes (by pid) and namespaces.
 */
public record LabState(String name, boolean isolated, String csum, String runDir, List<String> namespaces,
                       String hostNamespace, String cardNamespace, String wireNamespace,
                       Map<String, Proc> processes, Map<String, String> addresses, Map<String, String> metrics,
                       String startedAt) {

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
        Map<String, Proc> next = new TreeMap<>(processes);
        next.put(c.command(), p);
        return new LabState(name, isolated, csum, runDir, namespaces, hostNamespace, cardNamespace, wireNamespace,
                next, addresses, metrics, startedAt);
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
