package dev.tether.interop;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Puts the third-party peers' logs into the test report when a scenario fails, so a red run says
 * why. Peers register their log source while the test runs.
 */
final class PeerLogs implements TestWatcher, AfterEachCallback {

    private static final List<Source> SOURCES = new CopyOnWriteArrayList<>();

    private record Source(String name, Supplier<String> log) {
    }

    /**
     * @param name the peer
     * @param log  its output so far
     */
    static void register(String name, Supplier<String> log) {
        SOURCES.add(new Source(name, log));
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        for (Source s : SOURCES) {
            System.out.println("----- " + s.name() + " log (" + context.getDisplayName() + ") -----");
            System.out.println(s.log().get());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        // TestWatcher callbacks run after afterEach: keep the sources until the next test starts.
    }

    static void clear() {
        SOURCES.clear();
    }
}
