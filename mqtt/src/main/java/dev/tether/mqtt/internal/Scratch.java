package dev.tether.mqtt.internal;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;

/**
 * A list collected under the client's monitor and worked through once it is released (the completions a publish or
 * an acknowledgement runs, the subscribers an inbound message wakes), reused by its thread instead of allocated per
 * call: a QoS 1 publish and its PUBACK each made one.
 *
 * <p>What runs from such a list is user code, which may call the client again on the same thread (publish from a
 * completion); such a reentrant call finds its thread's list in use and gets a new one, so the list being worked
 * through is never touched by it. A list is only ever used by the thread that took it.
 *
 * <p><b>Internal:</b> not part of the API.
 *
 * @param <T> the elements
 */
final class Scratch<T> extends ArrayList<T> {

    private static final long serialVersionUID = 1L;

    /** A list that grew past this many elements (a shutdown failing many publishes) is not kept. */
    private static final int KEEP_AT_MOST = 64;

    /** The completions of the client's calls ({@link #runAll}). */
    static final Spare<Runnable> COMPLETIONS = new Spare<>();

    /** The subscribers an inbound message is buffered for, drained after the monitor is released. */
    static final Spare<InboundSubscriber> SUBSCRIBERS = new Spare<>();

    /** The filters an inbound message matches. */
    static final Spare<SubscriptionRegistry.Filter> FILTERS = new Spare<>();

    /** The subscribers of those filters it goes to. */
    static final Spare<InboundSubscriber> TARGETS = new Spare<>();

    /** The notices (kind, details) an inbound message gives rise to. */
    static final Spare<String[]> NOTICES = new Spare<>();

    /** Whether this thread's list is taken: true from {@link Spare#take} to {@link #release}. */
    private transient boolean taken;
    /** Whether this is the thread's kept list, not one made for a reentrant call. */
    private final transient boolean kept;

    private Scratch(boolean kept) {
        super(4);
        this.kept = kept;
    }

    /**
     * Empties the list and gives it back to its thread (a list made for a reentrant call is dropped). Call once, on
     * the thread that took it, when nothing reads it any more.
     */
    void release() {
        if (!kept) {
            return;
        }
        if (size() > KEEP_AT_MOST) {
            clear();
            trimToSize();
        } else {
            clear();
        }
        taken = false;
    }

    /**
     * Runs every completion in order, then releases the list; the list is released even if one throws (the
     * exception goes to the caller and the completions after it do not run, as before the list was reused).
     *
     * @param after the completions, taken from {@link #COMPLETIONS}
     */
    static void runAll(Scratch<Runnable> after) {
        try {
            for (int i = 0; i < after.size(); i++) {
                after.get(i).run();
            }
        } finally {
            after.release();
        }
    }

    /**
     * One list per thread.
     *
     * @param <T> the elements
     */
    static final class Spare<T> {
        private final FastThreadLocal<Scratch<T>> local = new FastThreadLocal<>() {
            @Override
            protected Scratch<T> initialValue() {
                return new Scratch<>(true);
            }
        };

        private Spare() {
        }

        /** @return this thread's list, empty, or a new one if the thread's list is in use (a reentrant call) */
        Scratch<T> take() {
            Scratch<T> s = local.get();
            if (s.taken) {
                return new Scratch<>(false);
            }
            s.taken = true;
            return s;
        }
    }
}
