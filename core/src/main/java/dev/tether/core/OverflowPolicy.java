package dev.tether.core;

/**
 * What a bounded buffer does when it is full.
 */
public enum OverflowPolicy {
    /** Refuse the newest element with an error (nothing already buffered is lost). */
    FAIL_NEWEST,
    /** Drop the oldest buffered element to make room. */
    DROP_OLDEST,
    /** Drop the newest element. */
    DROP_NEWEST
}
