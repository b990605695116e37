package dev.tether.core;

/**
 * A bounded buffer was full and its {@link OverflowPolicy} is {@link OverflowPolicy#FAIL_NEWEST}.
 */
public final class BufferOverflowException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * @param capacity the capacity that was reached
     * @param what     what the buffer holds, e.g. "outbound messages"
     */
    public BufferOverflowException(int capacity, String what) {
        super("buffer of " + what + " is full (" + capacity + " elements) while disconnected; "
                + "raise the capacity, choose a dropping OverflowPolicy, or slow the producer");
    }
}
