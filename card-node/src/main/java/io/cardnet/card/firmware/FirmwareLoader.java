package io.cardnet.card.firmware;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and checks a firmware directory before anything on the card is touched: every fault is reported with the
 * file and line it comes from, so a refused firmware says exactly what to fix.
 *
 * <pre>
 * version: 1.0.1                      # must match the directory's name
 * description: one line for reports
 * services: [sink, echo]
 * sysctls: {net.ipv4.ip_forward: 1}
 * ruleset: firewall.nft               # loaded with nft -f at boot; checked with nft -c now
 * console: {authorized_keys: authorized_keys}
 * health:                             # all must pass within the drill's watchdog
 *   - listening: 9
 *   - sysctl: net.ipv4.ip_forward=1
 *   - command: [nft, list, table, inet, card]
 * kernel: 6.12                        # the VM card's kernel (CardKernel); or {version: 6.12, cmdline: "..."}
 * ipsec: {mode: tunnel, esp: aes256gcm16}   # ESP to the wire peer (Ipsec); keys come from the lab, never from here
 * </pre>
 */
public final class FirmwareLoader {
    private static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+(?:-[A-Za-z0-9.]+)?");
    private static final Pattern SYSCTL = Pattern.compile("[a-z0-9_]+(?:\\.[a-zA-Z0-9_-]+)+");
    private static final Set<String> KEYS = Set.of("version", "description", "services", "sysctls", "ruleset",
            "console", "health", "kernel", "ipsec");

    private final RulesetCheck rulesets;

    public FirmwareLoader(RulesetCheck rulesets) {
        this.rulesets = rulesets;
    }

    /** Loads with the real {@code nft -c} check. */
    public static Firmware load(Path directory) throws FirmwareException {
        return new FirmwareLoader(RulesetCheck.NFT_DRY_RUN).read(directory);
    }

    public Firmware read(Path directory) throws FirmwareException {
        Path dir = directory.toAbsolutePath().normalize();
        Path file = dir.resolve(Firmware.FILE);
        if (!Files.isRegularFile(file)) {
            throw new FirmwareException(file, 0, "missing: a firmware directory holds " + Firmware.FILE
                    + " (see images/card-firmware/1.0.0/ for one)");
        }
        Node root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml(new LoaderOptions()).compose(r);
        } catch (MarkedYAMLException e) {
            throw new FirmwareException(file, e.getProblemMark().getLine() + 1, "not valid YAML: " + e.getProblem());
        } catch (ReaderException e) {
            // a character YAML does not allow (a NUL, a control character): the reader says where, not on which line
            throw new FirmwareException(file, lineOf(file, e.getPosition()), "not valid YAML: character "
                    + String.format("U+%04X", e.getCodePoint()) + " is not allowed in YAML text");
        } catch (YAMLException e) {
            throw new FirmwareException(file, 0, "not valid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new FirmwareException(file, 0, "cannot read: " + e.getMessage());
        }
        Doc doc = new Doc(file);
        if (!(root instanceof MappingNode top)) {
            throw doc.fault(root, "expected a mapping of version, services, sysctls, ruleset, health");
        }
        Map<String, NodeTuple> fields = new LinkedHashMap<>();
        for (NodeTuple t : top.getValue()) {
            String key = doc.scalar(t.getKeyNode(), "a key");
            if (!KEYS.contains(key)) {
                throw doc.fault(t.getKeyNode(), "unknown key '" + key + "'; firmware.yaml knows " + String.join(", ",
                        new java.util.TreeSet<>(KEYS)));
            }
            fields.put(key, t);
        }

        NodeTuple v = require(doc, top, fields, "version");
        String version = doc.scalar(v.getValueNode(), "version");
        if (!VERSION.matcher(version).matches()) {
            throw doc.fault(v.getValueNode(), "version '" + version + "' is not MAJOR.MINOR.PATCH[-LABEL]");
        }
        if (!dir.getFileName().toString().equals(version)) {
            throw doc.fault(v.getValueNode(), "version " + version + " lives in a directory named '"
                    + dir.getFileName() + "'; name the directory after the version");
        }
        String description = fields.containsKey("description")
                ? doc.scalar(fields.get("description").getValueNode(), "description") : "";

        List<CardService> services = new ArrayList<>();
        for (Node n : doc.sequence(require(doc, top, fields, "services").getValueNode(), "services")) {
            String id = doc.scalar(n, "a service");
            CardService s = CardService.byId(id);
            if (s == null) {
                throw doc.fault(n, "unknown service '" + id + "'; card-node runs " + CardService.known());
            }
            if (services.contains(s)) {
                throw doc.fault(n, "service '" + id + "' is listed twice");
            }
            services.add(s);
        }

        Map<String, String> sysctls = new LinkedHashMap<>();
        if (fields.containsKey("sysctls")) {
            for (NodeTuple t : doc.mapping(fields.get("sysctls").getValueNode(), "sysctls")) {
                String key = doc.scalar(t.getKeyNode(), "a sysctl name");
                if (!SYSCTL.matcher(key).matches() || !key.startsWith("net.")) {
                    throw doc.fault(t.getKeyNode(), "sysctl '" + key + "': a firmware sets only per-namespace net.*"
                            + " sysctls, such as net.ipv4.ip_forward");
                }
                sysctls.put(key, doc.scalar(t.getValueNode(), "the value of " + key));
            }
        }

        NodeTuple rs = require(doc, top, fields, "ruleset");
        Path ruleset = doc.fileIn(dir, rs.getValueNode(), "ruleset");

        Path keys = null;
        if (fields.containsKey("console")) {
            for (NodeTuple t : doc.mapping(fields.get("console").getValueNode(), "console")) {
                String key = doc.scalar(t.getKeyNode(), "a console key");
                if (!key.equals("authorized_keys")) {
                    throw doc.fault(t.getKeyNode(), "unknown console key '" + key + "'; the console knows authorized_keys");
                }
                keys = doc.fileIn(dir, t.getValueNode(), "authorized_keys");
            }
        }

        Ipsec ipsec = fields.containsKey("ipsec") ? ipsec(doc, fields.get("ipsec")) : null;
        List<HealthCheck> health = new ArrayList<>();
        for (Node n : doc.sequence(require(doc, top, fields, "health").getValueNode(), "health")) {
            health.add(healthCheck(doc, n, services, sysctls, ipsec));
        }
        if (health.isEmpty()) {
            throw doc.fault(fields.get("health").getValueNode(), "health is empty: a drill could not tell a working"
                    + " firmware from a broken one");
        }
        CardKernel kernel = fields.containsKey("kernel") ? kernel(doc, dir, fields.get("kernel").getValueNode())
                : CardKernel.defaultKernel();
        // Last, as the only check that runs a program: everything above is wrong or right without one.
        rulesets.check(ruleset);
        Path overlay = dir.resolve("overlay");
        return new Firmware(version, description, dir, services, sysctls, ruleset, keys, health,
                Files.isDirectory(overlay) ? overlay : null, kernel, ipsec);
    }

    /** {@code kernel: SPEC} or {@code kernel: {version: SPEC, cmdline: ARGS}}. */
    private static CardKernel kernel(Doc doc, Path dir, Node n) throws FirmwareException {
        Node specNode = n;
        String cmdline = "";
        if (n instanceof MappingNode) {
            specNode = null;
            for (NodeTuple t : doc.mapping(n, "kernel")) {
                String key = doc.scalar(t.getKeyNode(), "a kernel key");
                switch (key) {
                    case "version" -> specNode = t.getValueNode();
                    case "cmdline" -> {
                        cmdline = doc.scalar(t.getValueNode(), "kernel arguments");
                        String problem = CardKernel.problemWithCmdline(cmdline);
                        if (problem != null) {
                            throw doc.fault(t.getValueNode(), problem);
                        }
                    }
                    default -> throw doc.fault(t.getKeyNode(), "unknown kernel key '" + key
                            + "'; kernel knows version and cmdline");
                }
            }
            if (specNode == null) {
                throw doc.fault(n, "kernel needs a version: a Debian series (6.1, 6.12), a package version or a path");
            }
        }
        String spec = doc.scalar(specNode, "a kernel (6.1, 6.12, a package version or a path)");
        String problem = CardKernel.problemWithSpec(spec);
        if (problem != null) {
            throw doc.fault(specNode, problem);
        }
        Path path = null;
        if (CardKernel.looksLikePath(spec)) {
            path = dir.resolve(spec).normalize();
            if (!Files.exists(path)) {
                throw doc.fault(specNode, "kernel '" + spec + "' does not exist (" + path + "): name an extracted"
                        + " kernel package (boot/vmlinuz-*, lib/modules/*) or a .deb");
            }
        }
        return new CardKernel(spec, path, cmdline, doc.line(specNode));
    }

    /** {@code ipsec: {mode: tunnel, esp: PROPOSAL}}: the algorithm only; a key here would be a shipped secret. */
    private static Ipsec ipsec(Doc doc, NodeTuple field) throws FirmwareException {
        io.cardnet.card.ipsec.EspProposal esp = null;
        for (NodeTuple t : doc.mapping(field.getValueNode(), "ipsec")) {
            String key = doc.scalar(t.getKeyNode(), "an ipsec key");
            String value = doc.scalar(t.getValueNode(), "the value of " + key);
            switch (key) {
                case "mode" -> {
                    if (!value.equals("tunnel")) {
                        throw doc.fault(t.getValueNode(), "ipsec mode '" + value + "': only tunnel; the card forwards"
                                + " the host's packets, so the ESP ends are the card and the wire peer, not the host");
                    }
                }
                case "esp" -> {
                    esp = io.cardnet.card.ipsec.EspProposal.byId(value);
                    if (esp == null) {
                        throw doc.fault(t.getValueNode(), "unknown ESP algorithm '" + value + "'; the card knows "
                                + io.cardnet.card.ipsec.EspProposal.known());
                    }
                }
                default -> throw doc.fault(t.getKeyNode(), "unknown ipsec key '" + key + "'; ipsec knows mode and esp"
                        + (key.contains("key") || key.contains("secret") || key.contains("psk")
                        ? " (keys are never in a firmware: the lab makes fresh ones each time the card boots)" : ""));
            }
        }
        if (esp == null) {
            throw doc.fault(field.getValueNode(), "ipsec needs esp: one of " + io.cardnet.card.ipsec.EspProposal.known());
        }
        return new Ipsec(esp, doc.line(field.getKeyNode()));
    }

    private static HealthCheck healthCheck(Doc doc, Node n, List<CardService> services, Map<String, String> sysctls,
                                           Ipsec ipsec) throws FirmwareException {
        List<NodeTuple> m = doc.mapping(n, "a health check");
        if (m.size() != 1) {
            throw doc.fault(n, "a health check is one of listening: PORT, sysctl: KEY=VALUE, command: [ARGV...], ipsec: up");
        }
        NodeTuple t = m.getFirst();
        String kind = doc.scalar(t.getKeyNode(), "a health check kind");
        int line = doc.line(n);
        return switch (kind) {
            case "listening" -> {
                String text = doc.scalar(t.getValueNode(), "a port");
                int port;
                try {
                    port = Integer.parseInt(text);
                } catch (NumberFormatException e) {
                    throw doc.fault(t.getValueNode(), "listening takes a TCP port, not '" + text + "'");
                }
                if (services.stream().noneMatch(s -> s.port() == port)) {
                    throw doc.fault(t.getValueNode(), "health check 'listening " + port + "' can never pass: no service"
                            + " of this firmware listens on " + port + " (services: " + services.stream()
                            .map(s -> s.id() + " :" + s.port()).reduce((a, b) -> a + ", " + b).orElse("none") + ")");
                }
                yield new HealthCheck.Listening(port, line);
            }
            case "sysctl" -> {
                String text = doc.scalar(t.getValueNode(), "KEY=VALUE");
                int eq = text.indexOf('=');
                if (eq <= 0) {
                    throw doc.fault(t.getValueNode(), "sysctl takes KEY=VALUE, not '" + text + "'");
                }
                String key = text.substring(0, eq).strip();
                String value = text.substring(eq + 1).strip();
                String set = sysctls.get(key);
                if (set != null && !set.equals(value)) {
                    throw doc.fault(t.getValueNode(), "health check 'sysctl " + key + "=" + value + "' can never pass:"
                            + " this firmware sets " + key + " to " + set);
                }
                yield new HealthCheck.Sysctl(key, value, line);
            }
            case "command" -> {
                List<String> argv = new ArrayList<>();
                for (Node a : doc.sequence(t.getValueNode(), "command")) {
                    argv.add(doc.scalar(a, "an argument"));
                }
                if (argv.isEmpty()) {
                    throw doc.fault(t.getValueNode(), "command needs at least the program to run");
                }
                yield new HealthCheck.Command(argv, line);
            }
            case "ipsec" -> {
                String text = doc.scalar(t.getValueNode(), "up");
                if (!text.equals("up")) {
                    throw doc.fault(t.getValueNode(), "the ipsec health check is 'ipsec: up', not '" + text + "'");
                }
                if (ipsec == null) {
                    throw doc.fault(t.getValueNode(), "health check 'ipsec up' can never pass: this firmware has no"
                            + " ipsec: key");
                }
                yield new HealthCheck.Ipsec(line);
            }
            default -> throw doc.fault(t.getKeyNode(), "unknown health check '" + kind
                    + "'; use listening, sysctl, command or ipsec");
        };
    }

    /** The 1-based line of the {@code codePoint}th character of {@code file}, or 0 if it cannot be read. */
    private static int lineOf(Path file, int codePoint) {
        try {
            String text = Files.readString(file);
            int end = text.offsetByCodePoints(0, Math.min(codePoint, text.codePointCount(0, text.length())));
            return 1 + (int) text.substring(0, end).chars().filter(c -> c == '\n').count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static NodeTuple require(Doc doc, MappingNode top, Map<String, NodeTuple> fields, String key)
            throws FirmwareException {
        NodeTuple t = fields.get(key);
        if (t == null) {
            throw doc.fault(top, "missing '" + key + "'");
        }
        return t;
    }

    /** firmware.yaml's nodes, read with their lines for error messages. */
    private record Doc(Path file) {
        FirmwareException fault(Node n, String message) {
            return new FirmwareException(file, line(n), message);
        }

        int line(Node n) {
            return n == null ? 0 : n.getStartMark().getLine() + 1;
        }

        String scalar(Node n, String what) throws FirmwareException {
            if (n instanceof ScalarNode s && !s.getValue().isBlank()) {
                return s.getValue().strip();
            }
            throw fault(n, "expected " + what + " (a single value) here");
        }

        List<Node> sequence(Node n, String what) throws FirmwareException {
            if (n instanceof SequenceNode s) {
                return s.getValue();
            }
            throw fault(n, what + " must be a list");
        }

        List<NodeTuple> mapping(Node n, String what) throws FirmwareException {
            if (n instanceof MappingNode m) {
                return m.getValue();
            }
            throw fault(n, what + " must be a mapping of KEY: VALUE");
        }

        /** A file named relative to the firmware directory, which must exist inside it. */
        Path fileIn(Path dir, Node n, String what) throws FirmwareException {
            String name = scalar(n, what + " (a file in the firmware directory)");
            Path p = dir.resolve(name).normalize();
            if (!p.startsWith(dir)) {
                throw fault(n, what + " '" + name + "' lies outside the firmware directory");
            }
            if (!Files.isRegularFile(p)) {
                throw fault(n, what + " '" + name + "' does not exist in " + dir);
            }
            return p;
        }
    }
}
