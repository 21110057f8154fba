package io.cardnet.card.firmware;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Whether an nftables ruleset would load, asked before anything on the card is touched. */
@FunctionalInterface
public interface RulesetCheck {
    /** Throws naming the ruleset's file and line if it would not load. */
    void check(Path ruleset) throws FirmwareException;

    /**
     * {@code nft -c -f}: nft parses the ruleset and asks the kernel to validate the transaction without
     * committing it. It runs in a network namespace of its own ({@code unshare --net}) that disappears with the
     * process, so not even a dry run touches a real namespace.
     */
    RulesetCheck NFT_DRY_RUN = ruleset -> {
        Pattern error = Pattern.compile(":(\\d+):\\d+(?:-\\d+)?: Error: (.*)");
        try {
            Process p = new ProcessBuilder("unshare", "--net", "nft", "-c", "-f", ruleset.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new FirmwareException(ruleset, 0, "nft -c did not finish within 30 s");
            }
            if (p.exitValue() != 0) {
                Matcher m = error.matcher(out);
                if (m.find()) {
                    throw new FirmwareException(ruleset, Integer.parseInt(m.group(1)), "nftables refuses this ruleset: "
                            + m.group(2).strip());
                }
                throw new FirmwareException(ruleset, 0, "nftables refuses this ruleset: " + out.strip());
            }
        } catch (IOException e) {
            throw new FirmwareException(ruleset, 0, "cannot run `unshare --net nft -c` to check the ruleset ("
                    + e.getMessage() + "); install nftables and run as root");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FirmwareException(ruleset, 0, "interrupted while checking the ruleset");
        }
    };
}
