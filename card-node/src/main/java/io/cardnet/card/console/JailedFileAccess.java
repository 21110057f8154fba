package io.cardnet.card.console;

import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;

/**
 * SFTP paths as the client sent them, checked before MINA's virtual file system resolves them. The virtual root
 * alone already keeps every path inside the data directory (it treats "/.." as "/"), but silently: a client asking
 * for {@code ../../etc/passwd} would get the data directory's {@code etc/passwd}, or "no such file". Here a path
 * that climbs above the root is refused outright ("permission denied") and counted.
 */
final class JailedFileAccess implements SftpFileSystemAccessor {
    private final ConsoleCounters counters;

    JailedFileAccess(ConsoleCounters counters) {
        this.counters = counters;
    }

    @Override
    public Path resolveLocalFilePath(SftpSubsystemProxy subsystem, Path rootDir, String remotePath) throws IOException {
        if (climbsAboveRoot(remotePath)) {
            counters.sftpDenied();
            throw new AccessDeniedException(remotePath, null, "outside the card's data directory");
        }
        return SftpFileSystemAccessor.super.resolveLocalFilePath(subsystem, rootDir, remotePath);
    }

    /**
     * True if {@code path}, read as a POSIX path from the root (SFTP's default directory), ever goes above it:
     * {@code ..}, {@code /../x}, {@code a/../../b}. Decided on the text alone, before any file is looked at.
     */
    static boolean climbsAboveRoot(String path) {
        int depth = 0;
        for (String part : path.replace('\\', '/').split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (--depth < 0) {
                    return true;
                }
            } else {
                depth++;
            }
        }
        return false;
    }
}
