/**
 * Tether core: the protocol-free resilience engine shared by every connector.
 *
 * <p>A {@link dev.tether.core.ResilientConnection} drives a protocol {@link dev.tether.core.spi.Connector}
 * through one retry pipeline for the first connect and every reconnect, classifies each failure
 * into a {@link dev.tether.core.Verdict}, asks a {@link dev.tether.core.CredentialsProvider} for
 * credentials before every attempt, and publishes what happens as a stream of
 * {@link dev.tether.core.LifecycleEvent}s. {@link dev.tether.core.ConnectionOperators} composes
 * the connection into user pipelines.
 *
 * <p>Everything in this package is non-null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.tether.core;

import dev.tether.core.spi.Connector;
import org.jspecify.annotations.NullMarked;
