package dev.tether.core.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition observed from outside the code under test (a peer's counter, the kernel),
 * checking it every few milliseconds until a generous deadline.
 */
public final class Await {

    private Await() {
    }

    /**
     * @param condition what must become true
     * @param timeout   the deadline
     * @param what      a description for the failure message
     * @throws AssertionError if the condition is still false at the deadline
     */
    public static void until(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not true within " + timeout.toMillis() + " ms: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
