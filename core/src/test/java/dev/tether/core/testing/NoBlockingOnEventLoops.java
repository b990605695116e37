package dev.tether.core.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;
import reactor.core.scheduler.ReactorBlockHoundIntegration;

/**
 * Fails a test when anything blocks on an event loop while it runs: BlockHound, installed once per
 * test JVM, watches Reactor Netty's event loops (threads named {@code reactor-tcp-*},
 * {@code reactor-http-*}), which is where Tether's protocol code runs; its timers only hop from the
 * connection's scheduler onto the event loop. Reactor's parallel scheduler is not watched because
 * the tests themselves poll on it (a blocking call thrown out of a timer task would leave a test
 * hanging instead of failing). A blocking
 * call there (a sleep, a lock wait, a file or socket read) is recorded with its stack, and the test
 * that was running fails after it ends, naming the call (the call itself goes on: throwing from
 * inside a JDK lock would break shared state and fail unrelated tests).
 *
 * <p>The embedded brokers' own event loops are not watched (their threads have other names): they
 * are the peers, not the code under test. Allowed, each for a reason given where it is listed: the
 * JDK's TLS handshake work, Resilience4j's compare-and-set back-off in the upgrade rate limiter, and
 * console logging (the test appender writes synchronously; production logging is the application's).
 *
 * <p>Registered for every test of the websocket and mqtt modules (where the event-loop code lives) by
 * {@code junit.jupiter.extensions.autodetection.enabled} and the module's
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}; a module that registers it
 * needs BlockHound as a test dependency. Core does not register it: its test classes reach every other
 * module's tests through the reactor, where a registration would follow them. Needs the JVM option
 * {@code -XX:+AllowRedefinitionToAddDeleteMethods} (set for Surefire and Failsafe in the parent POM).
 */
public final class NoBlockingOnEventLoops implements BeforeAllCallback, AfterEachCallback {

    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    private static final List<String> FOUND = new ArrayList<>();

    /** Installs BlockHound once per JVM. */
    public static void install() {
        if (!INSTALLED.compareAndSet(false, true)) {
            return;
        }
        BlockHound.builder()
                // Reactor's own allowances (a scheduler's short lock when a timer is scheduled or cancelled) ...
                .with(new ReactorBlockHoundIntegration())
                // ... but only the event loops are watched, not Reactor's schedulers (see above)
                .nonBlockingThreadPredicate(p -> NoBlockingOnEventLoops::isEventLoop)
                // the JDK's TLS handshake draws from /dev/urandom, which never blocks
                .allowBlockingCallsInside("sun.security.provider.NativePRNG$RandomIO", "implNextBytes")
                .allowBlockingCallsInside("sun.security.provider.NativePRNG$RandomIO", "implSetSeed")
                // the JDK's TLS handshake tasks (certificate checks load the JDK's trust anchors once); Netty runs
                // them on the event loop by default and its own BlockHound integration allows them too
                .allowBlockingCallsInside("sun.security.ssl.SSLEngineImpl$DelegatedTask$DelegatedAction", "run")
                .allowBlockingCallsInside("sun.security.ssl.X509TrustManagerImpl", "checkServerTrusted")
                .allowBlockingCallsInside("sun.security.ssl.X509TrustManagerImpl", "checkClientTrusted")
                // Resilience4j's rate limiter parks for a nanosecond to back off a lost compare-and-set; with a zero
                // timeout (the server's default limiter) it never waits for a permit
                .allowBlockingCallsInside("io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter", "compareAndSet")
                // a timer scheduled or cancelled from the event loop takes the scheduler's queue lock for a moment
                .allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue", "offer")
                .allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue", "remove")
                .allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue", "poll")
                // Netty's adaptive allocator frees a magazine (a thread's buffer cache) under its short write lock
                // when the magazine is retired; its allocation path only ever tries the lock
                .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free")
                .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free")
                .allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "writeBytes")
                .allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "subAppend")
                .blockingMethodCallback(method -> {
                    StringBuilder where = new StringBuilder(method + " on " + Thread.currentThread().getName());
                    for (StackTraceElement e : new Throwable().getStackTrace()) {
                        where.append("\n    at ").append(e);
                    }
                    synchronized (FOUND) {
                        FOUND.add(where.toString());
                    }
                    // Recorded, not thrown: an error thrown from inside a JDK lock or a class initializer would
                    // leave shared state broken (a scheduler's queue, a TLS class) and fail later tests instead.
                })
                .install();
    }

    private static boolean isEventLoop(Thread t) {
        String name = t.getName();
        return name.startsWith("reactor-tcp-") || name.startsWith("reactor-http-");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> calls;
        synchronized (FOUND) {
            calls = new ArrayList<>(FOUND);
            FOUND.clear();
        }
        if (!calls.isEmpty()) {
            throw new AssertionError(calls.size() + " blocking call(s) on an event loop during "
                    + context.getDisplayName() + ":\n" + String.join("\n", calls.subList(0, Math.min(3, calls.size()))));
        }
    }
}
