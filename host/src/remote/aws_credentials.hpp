#pragma once
// AWS credentials the way the AWS SDKs and CLI find them, so that existing setups just work:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment;
//   2. a named profile (AWS_PROFILE, or the connection's aws_profile) in the shared credentials
//      file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) — first when named;
//   3. a web-identity token (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, optional
//      AWS_ROLE_SESSION_NAME), exchanged at STS (AssumeRoleWithWebIdentity, unsigned) for
//      temporary credentials — what EKS and GitHub Actions give a job;
//   4. the "default" profile of the shared credentials file.
// A source that is absent is skipped; none found is a config error naming them all.

#include "remote/settings.hpp"
#include "remote/sigv4.hpp"

#include <string>

namespace billdrop::remote {

struct ResolvedAwsCredentials {
  AwsCredentials credentials;
  std::string source; // "environment", "profile 'x' of FILE", "web identity (role ARN)"
};

std::string aws_region(const RemoteSettings& settings, const Environment& environment);

ResolvedAwsCredentials find_aws_credentials(const RemoteSettings& settings,
                                            const Environment& environment);

// The [profile] section of an AWS shared credentials file: false when the file or the profile
// is absent; a profile without both keys is a config error naming the file and profile.
bool read_aws_profile(const std::string& file, const std::string& profile, AwsCredentials& out);

} // namespace billdrop::remote
