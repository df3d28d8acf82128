package smoke

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// LambdaInvoker invokes a function through the Lambda Invoke API with the
// SDK's Lambda client rather than hand-written HTTP: the client signs with
// SigV4 from the standard credential chain (the operator's profile, SSO,
// environment or role), resolves the region's endpoint, retries throttling,
// and reports a function error (X-Amz-Function-Error) as FunctionError,
// exactly as `aws lambda invoke` does
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). The same
// client reaches the local Invoke API of make run through BaseEndpoint.
type LambdaInvoker struct {
	Client *lambda.Client
}

// NewLambdaInvoker builds the client from the SDK's standard configuration;
// endpoint, when set, replaces the region's Lambda endpoint. A loopback
// endpoint (make run) needs no credentials: without any configured, requests
// go unsigned, which the local server accepts.
func NewLambdaInvoker(ctx context.Context, endpoint string) (*LambdaInvoker, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("smoke: AWS configuration: %w", err)
	}
	if endpoint != "" {
		if cfg.Region == "" {
			cfg.Region = "us-east-1" // any: the endpoint is given
		}
		if isLoopback(endpoint) && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			cfg.Credentials = aws.AnonymousCredentials{}
		}
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("smoke: no AWS region: set AWS_REGION to the stack's region")
	}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return &LambdaInvoker{Client: client}, nil
}

func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// Invoke implements Invoker: one synchronous invocation.
func (l *LambdaInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	out, err := l.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("%s failed (%s): %s", function, aws.ToString(out.FunctionError), snippet(out.Payload))
	}
	return out.Payload, nil
}
