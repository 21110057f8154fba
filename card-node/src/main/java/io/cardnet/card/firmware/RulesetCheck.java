package io.cardnet.card.firmware;

import java.io.IOException;
import java.nio.file.Path;
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
     * process, so not even a dry run touches a real namespace. Needs CAP_SYS_ADMIN (root on the host).
     */
    RulesetCheck NFT_DRY_RUN = ruleset -> dryRun(java.util.List.of("unshare", "--net"), ruleset);

    /**
     * The same dry run in the caller's own namespace: for card-node, which loads the ruleset there next anyway,
     * and which in a container has CAP_NET_ADMIN but not the CAP_SYS_ADMIN that unshare needs.
     */
    RulesetCheck NFT_DRY_RUN_HERE = ruleset -> dryRun(java.util.List.of(), ruleset);

    private static void dryRun(java.util.List<String> prefix, Path ruleset) throws FirmwareException {
        Pattern error = Pattern.compile(":(\\d+):\\d+(?:-\\d+)?: Error: (.*)");
        java.util.List<String> cmd = new java.util.ArrayList<>(prefix);
        cmd.addAll(java.util.List.of("nft", "-c", "-f", ruleset.toString()));
        try {
            io.cardnet.netdev.Subprocess.Result p = io.cardnet.netdev.Subprocess.run(cmd, java.time.Duration.ofSeconds(30));
            String out = p.output();
            if (p.timedOut()) {
                throw new FirmwareException(ruleset, 0, p.describe());
            }
            if (p.exitCode() != 0) {
                Matcher m = error.matcher(out);
                if (m.find()) {
                    throw new FirmwareException(ruleset, Integer.parseInt(m.group(1)), "nftables refuses this ruleset: "
                            + m.group(2).strip());
                }
                throw new FirmwareException(ruleset, 0, "cannot check this ruleset with `" + String.join(" ", cmd)
                        + "`: " + out.strip());
            }
        } catch (IOException e) {
            throw new FirmwareException(ruleset, 0, "cannot run `" + String.join(" ", cmd) + "` to check the ruleset ("
                    + e.getMessage() + "); install nftables and run as root");
        }
    }
}
