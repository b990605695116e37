package dev.tether.core;

/**
 * Why a {@link CredentialsProvider} is asked for credentials.
 *
 * @param attempt  the attempt number (1 for the first attempt after a connection was lost or started)
 * @param endpoint the endpoint the attempt is going to
 * @param refresh  {@code true} when the peer refused the previous credentials: the provider must
 *                 obtain new ones, not return its cache
 */
public record CredentialsRequest(int attempt, Endpoint endpoint, boolean refresh) {
}
