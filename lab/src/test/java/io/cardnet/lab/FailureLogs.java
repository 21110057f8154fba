package io.cardnet.lab;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.util.function.Supplier;

/** Prints the lab's component logs when a test fails, as they were when the lab went down (the test's try-with-resources closes it first). */
final class FailureLogs implements TestWatcher {
    private final Supplier<TestLab> lab;

    FailureLogs(Supplier<TestLab> lab) {
        this.lab = lab;
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        TestLab t = lab.get();
        if (t != null) {
            System.out.println("==== " + context.getDisplayName() + " failed: " + cause);
            t.dumpLogs();
        }
    }
}
