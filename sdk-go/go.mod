// The qntx Go SDK. Here it builds in GOPATH mode from Debian's packages with no network
// (toolchain.sh gopath); with modules, point a replace directive at this folder and run
// `go mod tidy` (the versions below are Debian 12's, the ones this SDK is tested with).
module qntx/sdk-go

go 1.19

require (
	github.com/spf13/cobra v1.6.1
	github.com/spf13/pflag v1.0.6-0.20210604193023-d5e0c0615ace
	go.uber.org/zap v1.23.0
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
