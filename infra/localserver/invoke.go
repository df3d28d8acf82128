package localserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxInvokePayloadBytes is Lambda's synchronous invocation payload limit.
const MaxInvokePayloadBytes = 6 << 20

// InvokeHandler answers the Lambda Invoke API for every function of the
// template, POST /2015-03-31/functions/{FunctionName}/invocations, as `sam
// local start-lambda` does: the function name may be a logical id, an ARN
// or name:qualifier; X-Amz-Invocation-Type RequestResponse (default), Event
// (202, runs in the background) or DryRun (204); a failed invocation is a
// 200 with X-Amz-Function-Error: Unhandled and the error payload; X-Amz-Log-Type:
// Tail returns the START/END/REPORT lines in X-Amz-Log-Result. Requests are
// not signature-checked.
func (s *Server) InvokeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.serveInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		awsError(w, http.StatusNotFound, "UnknownOperationException", "The local Lambda endpoint serves only Invoke.")
	})
	return mux
}

func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	name := functionName(r.PathValue("name"))
	f, ok := s.functions[name]
	if !ok {
		awsError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", Region, AccountID, name))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxInvokePayloadBytes+1))
	if err != nil {
		awsError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not read the request body.")
		return
	}
	if len(payload) > MaxInvokePayloadBytes {
		awsError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		awsError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}

	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		go func() {
			// An asynchronous invocation outlives the request that made it.
			_, _, _ = s.invoke(context.WithoutCancel(r.Context()), f, payload)
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		awsError(w, http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun.")
		return
	}

	start := time.Now()
	out, reqID, err := s.invoke(r.Context(), f, payload)
	elapsed := time.Since(start)
	s.log.InfoContext(r.Context(), "lambda invoke", "function", name, "lambdaRequestId", reqID,
		"failed", err != nil, "durationMs", elapsed.Milliseconds())

	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		tail := fmt.Sprintf("START RequestId: %s Version: $LATEST\nEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\n",
			reqID, reqID, reqID, float64(elapsed.Microseconds())/1000)
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(tail)))
	}
	var fe *FunctionError
	if errors.As(err, &fe) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(fe)
		return
	}
	if err != nil {
		awsError(w, http.StatusInternalServerError, "ServiceException", "The function could not be invoked.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// awsError writes an error the AWS SDKs and CLI decode (restJson1).
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-Errortype", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func newRequestID() string {
	return gatewayRequestID()
}
