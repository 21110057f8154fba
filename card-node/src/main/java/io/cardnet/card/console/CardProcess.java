package io.cardnet.card.console;

import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A shell or a single command of a console session: a child of card-node, so it runs where card-node does (the
 * card's network namespace, container or VM), with the session's streams pumped to and from it. When the client
 * asked for a terminal, the child gets a real pty from util-linux's {@code script} (sized as the client's
 * window), so job control, line editing and full-screen programs work; without one it gets plain pipes, as
 * {@code ssh host cmd} expects.
 */
final class CardProcess implements Command {
    private final List<String> argv;
    private final Path workDir;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private volatile Process process;

    CardProcess(List<String> argv, Path workDir) {
        this.argv = List.copyOf(argv);
        this.workDir = workDir;
    }

    /** The argv that gives {@code argv} a pty of this size: {@code script} runs it through {@code sh -c}. */
    static List<String> withPty(List<String> argv, int columns, int lines) {
        StringBuilder cmd = new StringBuilder();
        if (columns > 0 && lines > 0) {
            cmd.append("stty cols ").append(columns).append(" rows ").append(lines).append(" 2>/dev/null; ");
        }
        cmd.append("exec");
        for (String a : argv) {
            cmd.append(' ').append(quote(a));
        }
        return List.of("script", "-q", "-f", "-e", "-c", cmd.toString(), "/dev/null");
    }

    /** POSIX shell single-quoting. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
        Map<String, String> e = env.getEnv();
        boolean pty = e.containsKey(Environment.ENV_TERM);
        List<String> cmd = pty ? withPty(argv, number(e.get(Environment.ENV_COLUMNS)), number(e.get(Environment.ENV_LINES)))
                : argv;
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(workDir.toFile());
        pb.environment().put("USER", ConsoleSettings.USER);
        pb.environment().put("LOGNAME", ConsoleSettings.USER);
        pb.environment().put("HOME", workDir.toString());
        if (pty) {
            pb.environment().put("TERM", e.get(Environment.ENV_TERM));
        }
        process = pb.start();
        Process p = process;
        Thread stdin = Thread.ofVirtual().name("console-stdin").start(() -> pump(in, p.getOutputStream(), true));
        Thread stdout = Thread.ofVirtual().name("console-stdout").start(() -> pump(p.getInputStream(), out, false));
        Thread stderr = Thread.ofVirtual().name("console-stderr").start(() -> pump(p.getErrorStream(), err, false));
        Thread.ofVirtual().name("console-exit").start(() -> {
            try {
                int code = p.waitFor();
                // All output reaches the client before the exit status does.
                stdout.join();
                stderr.join();
                stdin.interrupt();
                exit.onExit(code);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static int number(String s) {
        try {
            return s == null ? 0 : Integer.parseInt(s);
        } catch (NumberFormatException x) {
            return 0;
        }
    }

    /** Copies until end of stream; {@code closeTarget} passes the client's EOF on to the child's stdin. */
    private static void pump(InputStream from, OutputStream to, boolean closeTarget) {
        byte[] buf = new byte[32 * 1024];
        try {
            int n;
            while ((n = from.read(buf)) >= 0) {
                to.write(buf, 0, n);
                to.flush();
            }
        } catch (IOException x) {
            // the child or the session went away: nothing more to copy
        } finally {
            if (closeTarget) {
                try {
                    to.close();
                } catch (IOException x) {
                    // already gone
                }
            }
        }
    }

    @Override
    public void destroy(ChannelSession channel) {
        Process p = process;
        if (p != null && p.isAlive()) {
            // The session closed under it: the child and whatever it started in its pty go too.
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
    }
}
