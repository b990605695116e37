/**
 * Test fixtures that need core's types, shared by every module's tests (published in tether-core's
 * test-jar): {@link dev.tether.core.testing.Recorder} (records a lifecycle or message stream and waits
 * on it), {@link dev.tether.core.testing.Await} (waits on an outside condition) and {@link
 * dev.tether.core.testing.BuilderCopies} (checks a builder copy field by field). The network fixtures
 * (fault proxy, the kernel's view of sockets) are in the {@code tether-testkit} module.
 */
package dev.tether.core.testing;
